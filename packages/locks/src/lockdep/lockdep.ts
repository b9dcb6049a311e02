import { LockdepCore } from './core.js';
import { LockdepError } from './errors.js';
import { IrqContext, type LockdepHost } from './host.js';
import { LOCKDEP_MAP_SIZE, LockdepMap } from './map.js';
import { createPseudoLocks, fsReclaimTracked, type PseudoLockMaps } from './pseudo-locks.js';
import { heldLockInfos, heldLocksBlock, type LockdepLockInfo, lockLine } from './report-format.js';
import {
  reportAssertHeld,
  reportHeldLockFreed,
  reportLocksStillHeld,
  reportSuspiciousRcu,
} from './reports-misc.js';
import { ENABLED_HARDIRQ, ENABLED_SOFTIRQ, usageChars } from './usage.js';
import { markHeldLocks } from './usage-check.js';
import { taskWaitContext } from './wait-context.js';
import type { LockClassDesc } from './wait-types.js';

/** Construction options of {@link Lockdep}. @public */
export interface LockdepOptions {
  /** CONFIG_PROVE_LOCKING: track and validate at all (default true). When false every call returns at once. */
  readonly enabled?: boolean;
  /** Keep reporting after the first report instead of turning lockdep off (default false). */
  readonly keepGoing?: boolean;
  /** CONFIG_PROVE_RAW_LOCK_NESTING (default true): spinlock_t is LD_WAIT_CONFIG, not LD_WAIT_SPIN. */
  readonly proveRawLockNesting?: boolean;
}

/** Options of {@link Lockdep.lockAcquire}; the arguments of `lock_acquire()`. @public */
export interface LockAcquireOptions {
  /** Nesting subclass 0..7 (`spin_lock_nested()`); default 0. */
  readonly subclass?: number;
  /** A trylock: no dependency is added for it and no USED_IN bit is set. */
  readonly trylock?: boolean;
  /** 0 write (default), 1 read, 2 recursive read. */
  readonly read?: 0 | 1 | 2;
  /** 1 (default) to validate; 0 only tracks the lock (`lock_map_acquire` on a no-validate map, RCU). */
  readonly check?: 0 | 1;
  /** The lock serialising same-class nesting (`spin_lock_nest_lock()`). */
  readonly nestLock?: LockdepMap | null;
  /** Acquisition site as `%pS`; defaults to `LockdepHost.callSite()`. */
  readonly site?: string;
}

/** Counters in the style of /proc/lockdep_stats. @public */
export interface LockdepStats {
  /** Lock classes (including subclasses). */
  readonly classes: number;
  /** Direct dependencies in the graph. */
  readonly dependencies: number;
  /** Cached lock chains. */
  readonly chains: number;
  /** Acquisitions whose chain was already validated. */
  readonly chainHits: number;
  /** Acquisitions that validated a new chain. */
  readonly chainMisses: number;
  /** Deepest held-lock stack seen. */
  readonly maxDepth: number;
}

/**
 * Kinds of the reports {@link Lockdep} publishes through `LockdepHost.report`.
 * @public
 */
export const LockdepReportKind = {
  /** WARNING: possible recursive locking detected. */
  RECURSIVE: 'lockdep-recursive',
  /** WARNING: possible circular locking dependency detected. */
  CIRCULAR: 'lockdep-circular',
  /** WARNING: inconsistent lock state. */
  INCONSISTENT: 'lockdep-inconsistent',
  /** `WARNING: HARDIRQ-safe -> HARDIRQ-unsafe lock order detected` (or SOFTIRQ). */
  IRQ_UNSAFE: 'lockdep-irq-unsafe',
  /** WARNING: possible irq lock inversion dependency detected. */
  IRQ_INVERSION: 'lockdep-irq-inversion',
  /** WARNING: bad unlock balance detected! */
  BAD_UNLOCK: 'lockdep-bad-unlock',
  /** BUG: Invalid wait context. */
  INVALID_WAIT_CONTEXT: 'lockdep-invalid-wait-context',
  /** WARNING: held lock freed! */
  HELD_LOCK_FREED: 'lockdep-held-lock-freed',
  /** BUG: MAX_LOCK_DEPTH too low! */
  MAX_DEPTH: 'lockdep-max-depth',
  /** WARNING: suspicious RCU usage. */
  RCU_SUSPICIOUS: 'lockdep-rcu-suspicious',
  /** WARNING: Nested lock was not taken. */
  NESTED_LOCK_NOT_TAKEN: 'lockdep-nested-lock-not-taken',
  /** WARNING: comm/pid still has locks held! */
  LOCKS_HELD: 'lockdep-locks-held',
  /** `BUG: MAX_LOCKDEP_KEYS too low!` and the same for ENTRIES and CHAINS. */
  LIMIT: 'lockdep-limit',
  /** WARN splat of a failed lockdep_assert_held(). */
  ASSERT_HELD: 'lockdep-assert-held',
} as const;

function checkBool(name: string, v: unknown): boolean | undefined {
  if (v === undefined || typeof v === 'boolean') return v;
  throw new LockdepError(
    'BAD_OPTION',
    `lockdep option ${name}=${JSON.stringify(v)} is invalid; accepted: true or false`,
  );
}

function checkUint(what: string, v: number, max = 2 ** 53): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new LockdepError(
      what === 'gfp' || what === 'task flags' ? 'BAD_GFP' : 'BAD_ADDRESS',
      `${what} ${String(v)} is invalid; accepted: an integer in [0, ${max}]`,
    );
  }
}

/**
 * The runtime locking correctness validator. Models kernel/locking/lockdep.c
 * with CONFIG_PROVE_LOCKING and CONFIG_TRACE_IRQFLAGS: lock classes,
 * per-task held-lock stacks, the dependency graph with its BFS cycle and
 * irq-safety searches, chain-key caching, irq usage bits, the wait-type
 * check, and the kernel's reports, published through a {@link LockdepHost}.
 *
 * After the first report lockdep turns itself off (`debug_locks = 0`)
 * unless `keepGoing` is set.
 * @public
 */
export class Lockdep implements PseudoLockMaps {
  private readonly core: LockdepCore;
  /** `rcu_lock_map`, acquired by `rcu_read_lock()`. */
  readonly rcuLockMap: LockdepMap;
  /** `rcu_bh_lock_map`, acquired by `rcu_read_lock_bh()`. */
  readonly rcuBhLockMap: LockdepMap;
  /** `rcu_sched_lock_map`, acquired by `rcu_read_lock_sched()`. */
  readonly rcuSchedLockMap: LockdepMap;
  /** `__fs_reclaim_map`, acquired by allocations that may enter FS reclaim. */
  readonly fsReclaimMap: LockdepMap;

  constructor(host: LockdepHost, options: LockdepOptions = {}) {
    if (host === null || typeof host !== 'object') {
      throw new LockdepError(
        'BAD_OPTION',
        `lockdep host ${String(host)} is invalid; accepted: a LockdepHost`,
      );
    }
    const enabled = checkBool('enabled', options.enabled) ?? true;
    const keepGoing = checkBool('keepGoing', options.keepGoing) ?? false;
    const prove = checkBool('proveRawLockNesting', options.proveRawLockNesting) ?? true;
    this.core = new LockdepCore(host, enabled, keepGoing, prove);
    const maps = createPseudoLocks((name, desc) => this.registerClass(name, desc));
    this.rcuLockMap = maps.rcuLockMap;
    this.rcuBhLockMap = maps.rcuBhLockMap;
    this.rcuSchedLockMap = maps.rcuSchedLockMap;
    this.fsReclaimMap = maps.fsReclaimMap;
  }

  /** `debug_locks`: false once lockdep is disabled or turned itself off. */
  get debugLocks(): boolean {
    return this.core.debugLocks;
  }

  /** Whether reports keep coming after the first one. */
  get keepGoing(): boolean {
    return this.core.keepGoing;
  }

  /** CONFIG_PROVE_RAW_LOCK_NESTING. */
  get proveRawLockNesting(): boolean {
    return this.core.proveRawLockNesting;
  }

  /**
   * Register (or look up) the lock class for `name` and `key`. Locks
   * initialised at one site pass the same key and share a class; the same
   * name with another key is a different class, printed `name#2`. The key
   * defaults to the name. Models `lockdep_init_map_type()` with a
   * `lock_class_key`. Throws {@link LockdepError} on a bad descriptor or a
   * re-registration with a different one.
   */
  registerClass(name: string, desc: LockClassDesc, key?: unknown): number {
    const id = this.core.classes.register(name, desc, key);
    this.core.graph.ensureClass(id);
    return id;
  }

  /** The class name as lockdep prints it. */
  className(classId: number): string {
    this.checkClass(classId);
    return this.core.classes.printNames[classId] ?? '';
  }

  /** The 4 usage characters of a class, as printed in `{....}`. */
  classUsage(classId: number): string {
    this.checkClass(classId);
    return usageChars(this.core.classes.usage[classId] ?? 0);
  }

  private checkClass(classId: number): void {
    if (!Number.isInteger(classId) || classId < 1 || classId > this.core.classes.count) {
      throw new LockdepError(
        'BAD_CLASS',
        `class id ${String(classId)} is invalid; accepted: 1..${this.core.classes.count}`,
      );
    }
  }

  /**
   * Initialise a lock instance of class `classId` at physical address
   * `addr`. Like every kernel lock-init function, re-initialising memory
   * that holds a held lock reports "held lock freed"
   * (`debug_check_no_locks_freed()`). Models `lockdep_init_map()`.
   */
  initMap(
    classId: number,
    addr: number,
    name?: string,
    size: number = LOCKDEP_MAP_SIZE,
  ): LockdepMap {
    this.checkClass(classId);
    const map = new LockdepMap(classId, name ?? this.core.classes.names[classId] ?? '', addr, size);
    this.debugCheckNoLocksFreed(addr, size);
    return map;
  }

  /** `lock_acquire()` with named options. */
  lockAcquire(map: LockdepMap, opts?: LockAcquireOptions): void {
    const core = this.core;
    if (!core.debugLocks) return;
    if (opts === undefined) {
      core.acquire(map, 0, false, 0, 1, null, undefined);
      return;
    }
    core.acquire(
      map,
      opts.subclass ?? 0,
      opts.trylock === true,
      opts.read ?? 0,
      opts.check ?? 1,
      opts.nestLock ?? null,
      opts.site,
    );
  }

  /**
   * `lock_acquire(map, subclass, trylock, read, check, nest_lock, ip)` with
   * positional arguments: the allocation-free entry for lock implementations.
   */
  acquire(
    map: LockdepMap,
    subclass: number,
    trylock: boolean,
    read: number,
    check: number,
    nestLock: LockdepMap | null,
    site?: string,
  ): void {
    const core = this.core;
    // `=== false` is one compare; `!` on a boolean field is a full ToBoolean.
    if (core.debugLocks === false) return;
    core.acquire(map, subclass, trylock, read, check, nestLock, site);
  }

  /** `lock_release()`: reports "bad unlock balance" when `map` is not held. */
  lockRelease(map: LockdepMap): void {
    const core = this.core;
    if (core.debugLocks === false) return;
    core.release(map);
  }

  /**
   * `lock_is_held_type(map, read)`: 1 held (with that read-ness unless
   * `read` is -1), 0 not held, -1 unknown because lockdep is off.
   */
  lockIsHeldType(map: LockdepMap, read: -1 | 0 | 1 = -1): -1 | 0 | 1 {
    const core = this.core;
    if (!core.debugLocks) return -1;
    const ts = core.host.taskState();
    const i = core.heldIndex(ts, map);
    if (i < 0) return 0;
    if (read === -1 || (ts.hRead[i] !== 0 ? 1 : 0) === read) return 1;
    return 0;
  }

  /** `lock_is_held()`: true when held, or when lockdep is off (unknown). */
  lockIsHeld(map: LockdepMap): boolean {
    return this.lockIsHeldType(map, -1) !== 0;
  }

  /**
   * `lockdep_assert_held()`: WARNs (taint W, kind 'lockdep-assert-held') when
   * lockdep is on and `map` is not held. Returns whether the check passed.
   */
  lockdepAssertHeld(map: LockdepMap): boolean {
    if (this.lockIsHeldType(map, -1) !== 0) return true;
    reportAssertHeld(this.core, map, this.core.host.callSite());
    return false;
  }

  /** The current task's held locks, one ` #N: addr (class){usage}-{o:i}, at: site` line each. */
  heldLocks(): string[] {
    const core = this.core;
    const ts = core.host.taskState();
    const out: string[] = [];
    for (let i = 0; i < ts.depth; i++) out.push(` #${i}: ${lockLine(core, ts, i)}`);
    return out;
  }

  /** The current task's held locks as structured records. */
  heldLockDetails(): LockdepLockInfo[] {
    return heldLockInfos(this.core, this.core.host.taskState());
  }

  /**
   * `debug_show_held_locks(current)`: the "N locks held by comm/pid:" block,
   * or "INFO: lockdep is turned off." once lockdep is off.
   */
  showHeldLocks(): string[] {
    if (!this.core.debugLocks) return ['INFO: lockdep is turned off.'];
    return heldLocksBlock(this.core, this.core.host.taskState());
  }

  /** `lockdep_depth` of the current task. */
  depth(): number {
    return this.core.host.taskState().depth;
  }

  /**
   * Hardirqs are being enabled. Marks every held lock HARDIRQ-ON (and
   * SOFTIRQ-ON when softirqs are enabled), which reports a lock that is also
   * used in hardirq context. Models `lockdep_hardirqs_on_prepare()` +
   * `lockdep_hardirqs_on()`. Call on each disabled-to-enabled transition.
   */
  hardirqsOn(): void {
    const core = this.core;
    if (!core.debugLocks) return;
    const h = core.host;
    const ctx = h.irqContext();
    // NMIs do not track; enabling irqs inside a hardirq handler is not traced either.
    if (ctx === IrqContext.NMI || ctx === IrqContext.HARDIRQ) return;
    const ts = h.taskState();
    if (markHeldLocks(core, ts, ENABLED_HARDIRQ) && h.softirqsEnabled()) {
      markHeldLocks(core, ts, ENABLED_SOFTIRQ);
    }
    if (!core.debugLocks) return;
    ts.hardirqEnableEvent = ++ts.irqEvents;
    ts.hardirqEnableSite = h.callSite();
  }

  /** Hardirqs were disabled. Models `lockdep_hardirqs_off()`. */
  hardirqsOff(): void {
    const core = this.core;
    if (!core.debugLocks) return;
    const h = core.host;
    if (h.irqContext() === IrqContext.NMI) return;
    const ts = h.taskState();
    ts.hardirqDisableEvent = ++ts.irqEvents;
    ts.hardirqDisableSite = h.callSite();
  }

  /**
   * Softirqs are being enabled (`local_bh_enable()` reaching zero). With
   * hardirqs enabled, marks every held lock SOFTIRQ-ON. Models
   * `lockdep_softirqs_on()`.
   */
  softirqsOn(): void {
    const core = this.core;
    if (!core.debugLocks) return;
    const h = core.host;
    if (h.irqContext() === IrqContext.NMI) return;
    const ts = h.taskState();
    ts.softirqEnableEvent = ++ts.irqEvents;
    ts.softirqEnableSite = h.callSite();
    if (h.hardirqsEnabled()) markHeldLocks(core, ts, ENABLED_SOFTIRQ);
  }

  /** Softirqs were disabled. Models `lockdep_softirqs_off()`. */
  softirqsOff(): void {
    const core = this.core;
    if (!core.debugLocks) return;
    const h = core.host;
    if (h.irqContext() === IrqContext.NMI) return;
    const ts = h.taskState();
    ts.softirqDisableEvent = ++ts.irqEvents;
    ts.softirqDisableSite = h.callSite();
  }

  /**
   * Memory [addr, addr + len) is being freed or re-initialised: report
   * "held lock freed" if the current task holds a lock inside it. Models
   * `debug_check_no_locks_freed()`.
   */
  debugCheckNoLocksFreed(addr: number, len: number): void {
    const core = this.core;
    if (!core.debugLocks) return;
    checkUint('address', addr);
    checkUint('length', len);
    const ts = core.host.taskState();
    for (let i = 0; i < ts.depth; i++) {
      const map = ts.hInstance[i];
      if (map === null || map === undefined || map.addr < 0) continue;
      if (map.addr + map.size <= addr || addr + len <= map.addr) continue;
      reportHeldLockFreed(core, ts, addr, len, i);
      return;
    }
  }

  /**
   * The current task must hold no locks (task exit, return to user space).
   * Models `debug_check_no_locks_held()`.
   */
  debugCheckNoLocksHeld(): void {
    const core = this.core;
    if (!core.debugLocks) return;
    const ts = core.host.taskState();
    if (ts.depth > 0) reportLocksStillHeld(core, ts);
  }

  /**
   * "WARNING: suspicious RCU usage" from `RCU_LOCKDEP_WARN()` at
   * `file:line`: printed once per call site, only while lockdep is on, and
   * without turning lockdep off. Models `lockdep_rcu_suspicious()`.
   */
  lockdepRcuSuspicious(file: string, line: number, msg: string): void {
    const core = this.core;
    if (!core.debugLocks) return;
    const k = `${file}:${line}`;
    if (core.rcuWarned.has(k)) return;
    core.rcuWarned.add(k);
    reportSuspiciousRcu(core, core.host.taskState(), file, line, msg);
  }

  /** `rcu_lock_acquire(map)`: a recursive read, tracked but not validated. */
  rcuLockAcquire(map: LockdepMap): void {
    const core = this.core;
    if (!core.debugLocks) return;
    core.acquire(map, 0, false, 2, 0, null, undefined);
  }

  /** `rcu_lock_release(map)`. */
  rcuLockRelease(map: LockdepMap): void {
    this.lockRelease(map);
  }

  /**
   * `fs_reclaim_acquire(gfp)`: an allocation (or reclaim) that may recurse
   * into filesystem reclaim takes the `fs_reclaim` map; see
   * {@link fsReclaimTracked}. `taskFlags` are the task's `PF_*` flags.
   */
  fsReclaimAcquire(gfp: number, taskFlags = 0): void {
    const core = this.core;
    if (!core.debugLocks) return;
    checkUint('gfp', gfp, 0xffffffff);
    checkUint('task flags', taskFlags, 0xffffffff);
    if (!fsReclaimTracked(gfp, taskFlags)) return;
    core.acquire(this.fsReclaimMap, 0, false, 0, 1, null, undefined);
  }

  /** `fs_reclaim_release(gfp)`. */
  fsReclaimRelease(gfp: number, taskFlags = 0): void {
    const core = this.core;
    if (!core.debugLocks) return;
    checkUint('gfp', gfp, 0xffffffff);
    checkUint('task flags', taskFlags, 0xffffffff);
    if (!fsReclaimTracked(gfp, taskFlags)) return;
    core.release(this.fsReclaimMap);
  }

  /** `might_alloc(gfp)`'s lockdep part: `fs_reclaim_acquire()` + `fs_reclaim_release()`. */
  fsReclaimMightAlloc(gfp: number, taskFlags = 0): void {
    if (!this.core.debugLocks) return;
    this.fsReclaimAcquire(gfp, taskFlags);
    this.fsReclaimRelease(gfp, taskFlags);
  }

  /** `task_wait_context(current)` in the configured wait-type numbering. */
  taskWaitContext(): number {
    const h = this.core.host;
    const ctx = h.irqContext();
    const hardirq = ctx >= IrqContext.HARDIRQ;
    const softirq = ctx === IrqContext.SOFTIRQ || (hardirq && (h.softirqCount() & 1) !== 0);
    return taskWaitContext(this.core, hardirq, softirq);
  }

  /**
   * `read_lock_is_recursive()`: a queued rwlock reader is recursive in
   * interrupt context (hardirq, softirq or BH-disabled) or when `force`d
   * (the selftests' `force_read_lock_recursive`); pass 2 or 1 as `read`.
   */
  readLockIsRecursive(force = false): boolean {
    const h = this.core.host;
    return force || h.irqContext() !== IrqContext.TASK || h.softirqCount() !== 0;
  }

  /** Counters in the style of /proc/lockdep_stats. */
  stats(): LockdepStats {
    const c = this.core;
    return {
      classes: c.classes.count,
      dependencies: c.graph.entries / 2,
      chains: c.chains.count,
      chainHits: c.chains.hits,
      chainMisses: c.chains.misses,
      maxDepth: c.maxDepth,
    };
  }
}
