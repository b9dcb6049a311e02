import { ChainCache, iterateChainKey, KEYS_BITS } from './chain-key.js';
import { LockClassTable, MAX_LOCKDEP_SUBCLASSES } from './classes.js';
import { checkDeadlock, checkPrevsAdd } from './dependency-check.js';
import { LockdepError } from './errors.js';
import { DependencyGraph } from './graph.js';
import { IrqContext, type LockdepHost, type LockdepReport } from './host.js';
import type { LockdepMap } from './map.js';
import {
  reportBadUnlock,
  reportLimit,
  reportMaxDepth,
  reportNestedLockNotHeld,
} from './reports-misc.js';
import { type LockdepTaskState, MAX_LOCK_DEPTH } from './task-state.js';
import {
  ENABLED_HARDIRQ,
  ENABLED_HARDIRQ_READ,
  ENABLED_SOFTIRQ,
  ENABLED_SOFTIRQ_READ,
  LOCK_USED,
  LOCK_USED_READ,
  USED_IN_HARDIRQ,
  USED_IN_HARDIRQ_READ,
  USED_IN_SOFTIRQ,
  USED_IN_SOFTIRQ_READ,
} from './usage.js';
import { markLock, verifyLockUnused } from './usage-check.js';
import { checkWaitContext } from './wait-context.js';

/*
 * Hot-path imports are copied into module-local bindings once: module
 * runners that expose imports through namespace getters would otherwise pay
 * a property access per use on every acquire/release.
 */
const CTX_SOFTIRQ = IrqContext.SOFTIRQ;
const CTX_HARDIRQ = IrqContext.HARDIRQ;
const CTX_NMI = IrqContext.NMI;
const DEPTH_MAX = MAX_LOCK_DEPTH;
const ID_SHIFT = KEYS_BITS;
const mixChainKey = iterateChainKey;
const BIT_USED = LOCK_USED;
const BIT_USED_READ = LOCK_USED_READ;
const BIT_IN_HARDIRQ = USED_IN_HARDIRQ;
const BIT_IN_HARDIRQ_READ = USED_IN_HARDIRQ_READ;
const BIT_IN_SOFTIRQ = USED_IN_SOFTIRQ;
const BIT_IN_SOFTIRQ_READ = USED_IN_SOFTIRQ_READ;
const BIT_ON_HARDIRQ = ENABLED_HARDIRQ;
const BIT_ON_HARDIRQ_READ = ENABLED_HARDIRQ_READ;
const BIT_ON_SOFTIRQ = ENABLED_SOFTIRQ;
const BIT_ON_SOFTIRQ_READ = ENABLED_SOFTIRQ_READ;
const waitCheck = checkWaitContext;

/** Order in which `mark_usage()` sets bits. */
const MARK_ORDER = [
  USED_IN_HARDIRQ,
  USED_IN_HARDIRQ_READ,
  USED_IN_SOFTIRQ,
  USED_IN_SOFTIRQ_READ,
  ENABLED_HARDIRQ,
  ENABLED_HARDIRQ_READ,
  ENABLED_SOFTIRQ,
  ENABLED_SOFTIRQ_READ,
  LOCK_USED,
  LOCK_USED_READ,
];

/**
 * The lockdep engine state and its hot paths: `__lock_acquire()`,
 * `__lock_release()`, `mark_usage()` and the chain-key bookkeeping of
 * kernel/locking/lockdep.c. The public `Lockdep` class is a thin facade over
 * it; the checks and reports live in their own modules.
 * @internal
 */
export class LockdepCore {
  /** `debug_locks`: lockdep is on; cleared by the first report unless keepGoing. */
  debugLocks: boolean;
  /** Scratch output of `iterateChainKey()`. */
  readonly key = { lo: 0, hi: 0 };
  /** Call chain shared by the dependencies added by one acquisition. */
  pendingTrace: readonly string[] | null = null;
  /** Largest held-lock depth seen (`max_lockdep_depth`). */
  maxDepth = 0;
  /** Wait-context reports already made (keepGoing de-duplication). */
  readonly waitReported = new Set<number>();
  /** Suspicious-RCU call sites already reported (`__warned`). */
  readonly rcuWarned = new Set<string>();
  readonly classes: LockClassTable;
  readonly graph: DependencyGraph;
  readonly chains = new ChainCache();

  constructor(
    readonly host: LockdepHost,
    enabled: boolean,
    readonly keepGoing: boolean,
    readonly proveRawLockNesting: boolean,
  ) {
    this.debugLocks = enabled;
    this.classes = new LockClassTable(proveRawLockNesting);
    this.graph = new DependencyGraph(this.classes);
  }

  /**
   * Start a report: false when lockdep is already off. Turns lockdep off
   * (`debug_locks_off()`) unless keepGoing, or always when `limit` (a
   * capacity exhaustion after which lockdep cannot track correctly).
   */
  beginReport(limit = false): boolean {
    if (!this.debugLocks) return false;
    if (limit || !this.keepGoing) this.debugLocks = false;
    return true;
  }

  /** Hand a finished report to the host. */
  emit(r: LockdepReport): void {
    this.host.report(r);
  }

  /** Validate the common arguments of an acquisition; throws LockdepError. */
  checkArgs(map: LockdepMap, subclass: number, read: number): void {
    if (!(map !== null && typeof map === 'object' && map.classId >= 1)) {
      throw new LockdepError(
        'BAD_MAP',
        `lock map ${String(map)} is invalid; accepted: a LockdepMap`,
      );
    }
    if (map.classId > this.classes.count) {
      throw new LockdepError(
        'BAD_CLASS',
        `lock map "${map.name}": class id ${map.classId} is not registered with this lockdep instance (${this.classes.count} classes)`,
      );
    }
    if (!(subclass >= 0 && subclass < MAX_LOCKDEP_SUBCLASSES && (subclass | 0) === subclass)) {
      throw new LockdepError(
        'BAD_SUBCLASS',
        `lock map "${map.name}": subclass ${String(subclass)} is invalid; accepted: integers 0..${MAX_LOCKDEP_SUBCLASSES - 1}`,
      );
    }
    if (!(read === 0 || read === 1 || read === 2)) {
      throw new LockdepError(
        'BAD_READ',
        `lock map "${map.name}": read ${String(read)} is invalid; accepted: 0 (write), 1 (read), 2 (recursive read)`,
      );
    }
  }

  /** `lock_acquire()`: the entry from the lock implementations. */
  acquire(
    map: LockdepMap,
    subclass: number,
    trylock: boolean,
    read: number,
    check: number,
    nest: LockdepMap | null,
    site: string | undefined,
  ): void {
    this.checkArgs(map, subclass, read);
    let cls = map.classId;
    if (subclass !== 0) {
      cls = this.classes.subclassOf(this.classes.base[cls] ?? cls, subclass);
      if (cls === 0) {
        reportLimit(this, 'MAX_LOCKDEP_KEYS');
        return;
      }
      this.graph.ensureClass(cls);
    }
    const host = this.host;
    const ctx = host.irqContext();
    const where = site === undefined || site.length === 0 ? host.callSite() : site;
    const ts = host.taskState();
    if (ctx === CTX_NMI) {
      // NMIs run with lockdep_off(); only a non-trylock of a used class is checked.
      if (!trylock) verifyLockUnused(this, ts, map, cls, read, where);
      return;
    }
    this.lockAcquire(
      ts,
      map,
      cls,
      trylock ? 1 : 0,
      read,
      check !== 0 ? 1 : 0,
      host.hardirqsEnabled() ? 0 : 1,
      nest,
      where,
      0,
      ctx,
    );
  }

  /**
   * `__lock_acquire()`: returns 0 when lockdep stopped (report or limit),
   * 1 when the lock was pushed, 2 when it merged into a nest_lock reference.
   */
  lockAcquire(
    ts: LockdepTaskState,
    map: LockdepMap,
    cls: number,
    trylock: number,
    read: number,
    check: number,
    hardirqsOff: number,
    nest: LockdepMap | null,
    site: string,
    references: number,
    ctx: number,
  ): number {
    const depth = ts.depth;
    if (depth >= DEPTH_MAX) return 0;
    if (depth > 0 && nest !== null) {
      const top = depth - 1;
      if (ts.hClass[top] === cls) {
        const refs = references === 0 ? 1 : references;
        if (ts.hReferences[top] === 0) ts.hReferences[top] = 1;
        ts.hReferences[top] = (ts.hReferences[top] ?? 0) + refs;
        return 2;
      }
    }
    const hardirq = ctx === CTX_HARDIRQ;
    const softirq = ctx === CTX_SOFTIRQ || (hardirq && (this.host.softirqCount() & 1) !== 0);
    const irqCtx = (hardirq ? 2 : 0) + (softirq ? 1 : 0);
    ts.hClass[depth] = cls;
    ts.hRead[depth] = read;
    ts.hTrylock[depth] = trylock;
    ts.hCheck[depth] = check;
    ts.hHardirqsOff[depth] = hardirqsOff;
    ts.hIrqContext[depth] = irqCtx;
    ts.hReferences[depth] = references;
    ts.hInstance[depth] = map;
    ts.hNest[depth] = nest;
    ts.hSite[depth] = site;

    if (!waitCheck(this, ts, depth, hardirq, softirq) && !this.debugLocks) return 0;
    if (!this.markUsage(ts, depth, hardirq, softirq) && !this.debugLocks) return 0;

    let keyLo = ts.chainKeyLo;
    let keyHi = ts.chainKeyHi;
    let chainHead = depth === 0;
    ts.hPrevKeyLo[depth] = keyLo;
    ts.hPrevKeyHi[depth] = keyHi;
    if (depth > 0 && ts.hIrqContext[depth - 1] !== irqCtx) {
      keyLo = -1;
      keyHi = -1;
      chainHead = true;
    }
    const key = this.key;
    mixChainKey(key, keyLo, keyHi, cls | (read << ID_SHIFT));
    keyLo = key.lo;
    keyHi = key.hi;

    if (nest !== null && this.heldIndex(ts, nest) < 0) {
      reportNestedLockNotHeld(this, ts, depth);
      if (!this.debugLocks) return 0;
    }

    // validate_chain(): only a chain never seen before runs the graph checks.
    if (trylock === 0 && check !== 0) {
      const fresh = this.chains.lookupAdd(keyLo, keyHi);
      if (fresh < 0) {
        reportLimit(this, 'MAX_LOCKDEP_CHAINS');
        return 0;
      }
      if (fresh === 1) {
        const ret = checkDeadlock(this, ts, depth);
        if (ret === 0) {
          if (!this.debugLocks) return 0;
        } else if (!chainHead && ret !== 2) {
          if (!checkPrevsAdd(this, ts, depth) && !this.debugLocks) return 0;
        }
      }
    }

    ts.chainKeyLo = keyLo;
    ts.chainKeyHi = keyHi;
    const nd = depth + 1;
    ts.depth = nd;
    if (nd > this.maxDepth) this.maxDepth = nd;
    if (nd >= DEPTH_MAX) {
      reportMaxDepth(this, ts);
      return 0;
    }
    return 1;
  }

  /** `mark_usage()`: set the usage bits this acquisition implies. */
  private markUsage(
    ts: LockdepTaskState,
    slot: number,
    hardirq: boolean,
    softirq: boolean,
  ): boolean {
    const read = ts.hRead[slot] !== 0;
    let want = 1 << (read ? BIT_USED_READ : BIT_USED);
    if (ts.hCheck[slot] !== 0) {
      if (ts.hTrylock[slot] === 0) {
        if (hardirq) want |= 1 << (read ? BIT_IN_HARDIRQ_READ : BIT_IN_HARDIRQ);
        if (softirq) want |= 1 << (read ? BIT_IN_SOFTIRQ_READ : BIT_IN_SOFTIRQ);
      }
      if (ts.hHardirqsOff[slot] === 0) {
        want |= 1 << (read ? BIT_ON_HARDIRQ_READ : BIT_ON_HARDIRQ);
        if (this.host.softirqsEnabled()) {
          want |= 1 << (read ? BIT_ON_SOFTIRQ_READ : BIT_ON_SOFTIRQ);
        }
      }
    }
    const missing = want & ~(this.classes.usage[ts.hClass[slot] ?? 0] ?? 0);
    if (missing === 0) return true;
    let ok = true;
    for (const bit of MARK_ORDER) {
      if ((missing & (1 << bit)) === 0) continue;
      if (!markLock(this, ts, slot, bit)) {
        ok = false;
        if (!this.debugLocks) return false;
      }
    }
    return ok;
  }

  /** `match_held_lock()`. */
  private matches(ts: LockdepTaskState, i: number, map: LockdepMap): boolean {
    if (ts.hInstance[i] === map) return true;
    return ts.hReferences[i] !== 0 && ts.hClass[i] === map.classId;
  }

  /** `__lock_is_held()`: the slot holding `map`, or -1. */
  heldIndex(ts: LockdepTaskState, map: LockdepMap): number {
    for (let i = 0; i < ts.depth; i++) if (this.matches(ts, i, map)) return i;
    return -1;
  }

  /** `find_held_lock()`: search down from the top without crossing an irq context. */
  private findHeld(ts: LockdepTaskState, map: LockdepMap): number {
    let i = ts.depth - 1;
    if (this.matches(ts, i, map)) return i;
    for (i--; i >= 0; i--) {
      if (ts.hIrqContext[i + 1] !== ts.hIrqContext[i]) return -1;
      if (this.matches(ts, i, map)) return i;
    }
    return -1;
  }

  /** `lock_release()` / `__lock_release()`. */
  release(map: LockdepMap): void {
    if (!(map !== null && typeof map === 'object' && map.classId >= 1)) {
      throw new LockdepError(
        'BAD_MAP',
        `lock map ${String(map)} is invalid; accepted: a LockdepMap`,
      );
    }
    const host = this.host;
    const ctx = host.irqContext();
    if (ctx === CTX_NMI) return;
    const ts = host.taskState();
    const depth = ts.depth;
    const i = depth > 0 ? this.findHeld(ts, map) : -1;
    if (i < 0) {
      reportBadUnlock(this, ts, map, host.callSite());
      return;
    }
    const refs = ts.hReferences[i] ?? 0;
    if (refs !== 0) {
      ts.hReferences[i] = refs - 1;
      if (refs - 1 !== 0) return;
    }
    ts.depth = i;
    ts.chainKeyLo = ts.hPrevKeyLo[i] ?? -1;
    ts.chainKeyHi = ts.hPrevKeyHi[i] ?? -1;
    if (i === depth - 1) return;
    this.reacquire(ts, depth, i + 1, ctx);
  }

  /** `reacquire_held_locks()`: push back the locks above a released one. */
  reacquire(ts: LockdepTaskState, depth: number, from: number, ctx: number): void {
    for (let idx = from; idx < depth; idx++) {
      const map = ts.hInstance[idx];
      if (map === null || map === undefined) return;
      const r = this.lockAcquire(
        ts,
        map,
        ts.hClass[idx] ?? 0,
        ts.hTrylock[idx] ?? 0,
        ts.hRead[idx] ?? 0,
        ts.hCheck[idx] ?? 0,
        ts.hHardirqsOff[idx] ?? 0,
        ts.hNest[idx] ?? null,
        ts.hSite[idx] ?? '',
        ts.hReferences[idx] ?? 0,
        ctx,
      );
      if (r === 0) return;
    }
  }
}
