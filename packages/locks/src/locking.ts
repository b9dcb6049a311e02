import type { Machine } from '@sim/cpu';
import * as gfpMod from '@sim/gfp';
import { LocksError } from './errors.js';
import { LlistHead } from './llist.js';
import { LocalLock } from './local-lock.js';
import { LockStat, type LockStatRow } from './lock-stat.js';
import {
  createLockdepTaskState,
  LockClassDescs,
  Lockdep,
  type LockdepMap,
  type LockdepOptions,
} from './lockdep/index.js';
import { MachineLockdepHost } from './lockdep-host.js';
import { Mutex } from './mutex.js';
import { RwLock } from './rwlock.js';
import { RtSpinLock, SpinLock } from './spinlock.js';
import { RawSpinLock } from './spinning-lock.js';

// Module-local copies of imported constants and helpers: the JIT folds a module's
// own consts, but reads an import through its module cell, with a TDZ check, at every use.
const { __GFP_DIRECT_RECLAIM, gfpflagsAllowBlocking } = gfpMod;

/** Options of {@link createLocking}. @public */
export interface LockingOptions {
  /**
   * Lockdep (CONFIG_PROVE_LOCKING): true (default), false (off, next to no
   * cost), or engine options such as `{ keepGoing: true }`.
   */
  readonly lockdep?: boolean | LockdepOptions;
}

/**
 * What \@sim/rcu plugs in so that PREEMPT_RT's implicit `rcu_read_lock()`
 * inside spinlock_t and rwlock_t counts as an RCU reader.
 * @public
 */
export interface RcuReadLockHooks {
  /** `rcu_read_lock()` on the current task. */
  enter(): void;
  /** `rcu_read_unlock()` on the current task. */
  exit(): void;
  /** The current task's `rcu_preempt_depth()`. */
  depth(): number;
}

/** Where `might_alloc()`'s might_sleep check reports from. */
const MIGHT_ALLOC_SITE = 'include/linux/sched/mm.h:321';

const perMachine = new WeakMap<Machine, Locking>();

/**
 * The locking layer of one machine: creates locks (each at an address in
 * simulated memory, with a lockdep class named after it), owns lockdep and
 * lock_stat, and provides `might_alloc()` and the fs_reclaim annotations.
 * @public
 */
export class Locking {
  /** The machine. */
  readonly machine: Machine;
  /** The lockdep engine (disabled when lockdep is off). */
  readonly lockdep: Lockdep;
  /** Whether the machine runs PREEMPT_RT. */
  readonly rt: boolean;
  /** @internal */
  readonly stat = new LockStat();
  /** @internal probe hit after `spin_unlock_irqrestore()` restored irqs. */
  readonly probeUnlockIrqrestore: number;
  private rcuHooks: RcuReadLockHooks | null = null;

  /** @internal */
  constructor(machine: Machine, options: LockingOptions) {
    this.machine = machine;
    this.rt = machine.config.preempt === 'rt';
    const ld = options.lockdep ?? true;
    const ldOptions: LockdepOptions = ld === true ? {} : ld === false ? { enabled: false } : ld;
    const slot = machine.defineTaskSlot(() => createLockdepTaskState());
    this.lockdep = new Lockdep(new MachineLockdepHost(machine, slot, this.rt), ldOptions);
    this.probeUnlockIrqrestore = machine.defineProbe('lock.release.irqrestore');
    if (ldOptions.enabled !== false) {
      const l = this.lockdep;
      machine.setIrqTraceHooks({
        hardirqsOn: () => l.hardirqsOn(),
        hardirqsOff: () => l.hardirqsOff(),
        softirqsOn: () => l.softirqsOn(),
        softirqsOff: () => l.softirqsOff(),
      });
      machine.setHeldLocksProvider(() => l.heldLocks());
    }
  }

  /** A raw_spinlock_t. Models `DEFINE_RAW_SPINLOCK()` / `raw_spin_lock_init()`. */
  rawSpinLock(name: string): RawSpinLock {
    return new RawSpinLock(this, name, this.newMap(name, 'rawSpinlock', 8));
  }

  /** A spinlock_t (an {@link RtSpinLock} on PREEMPT_RT). Models `DEFINE_SPINLOCK()` / `spin_lock_init()`. */
  spinLock(name: string): SpinLock {
    return this.spinLockOfClass(name, 'spinlock');
  }

  /** @internal a spinlock_t whose lockdep class uses another descriptor (RT local_lock). */
  spinLockOfClass(name: string, desc: keyof typeof LockClassDescs): SpinLock {
    const map = this.newMap(name, desc, 8);
    return this.rt ? new RtSpinLock(this, name, map) : new SpinLock(this, name, map);
  }

  /** A per-CPU local_lock_t / local_trylock_t. Models `INIT_LOCAL_LOCK()`. */
  localLock(name: string): LocalLock {
    return new LocalLock(this, name);
  }

  /** A struct mutex. Models `DEFINE_MUTEX()` / `mutex_init()`. */
  mutex(name: string): Mutex {
    return new Mutex(this, name, this.newMap(name, 'mutex', 32));
  }

  /** An rwlock_t. Models `DEFINE_RWLOCK()` / `rwlock_init()`. */
  rwLock(name: string): RwLock {
    return new RwLock(this, name, this.newMap(name, 'rwlock', 8));
  }

  /**
   * An llist head in simulated memory (a fresh word), or at `addr` when the
   * head is embedded in another structure. Models `LLIST_HEAD()`.
   */
  llistHead(name: string, addr?: number): LlistHead {
    this.checkName(name);
    const a = addr ?? this.machine.memory.memblockAlloc(8, 8);
    return new LlistHead(this.machine, a, `llist:${name}`);
  }

  /**
   * Annotate an allocation that may reclaim: record the fs_reclaim
   * dependency and check that a blocking mask is used only where sleeping is
   * allowed. Models `might_alloc()` (include/linux/sched/mm.h).
   */
  mightAlloc(gfp: number, site: string = MIGHT_ALLOC_SITE): void {
    // One test inline: callers on allocation fast paths inline this much and
    // no more (a mask that cannot block with lockdep off has nothing to check).
    if ((gfp & __GFP_DIRECT_RECLAIM) !== 0 || this.lockdep.debugLocks === true) {
      this.mightAllocChecks(gfp, site);
    }
  }

  /** The checks of {@link Locking.mightAlloc}: `fs_reclaim_acquire/release()`, `might_sleep_if()`. */
  private mightAllocChecks(gfp: number, site: string): void {
    if (this.lockdep.debugLocks) this.lockdep.fsReclaimMightAlloc(gfp, this.taskFlags());
    if (gfpflagsAllowBlocking(gfp)) this.machine.mightSleep(site);
  }

  /** Enter reclaim on behalf of `gfp`. Models `fs_reclaim_acquire()`. */
  fsReclaimAcquire(gfp: number): void {
    this.lockdep.fsReclaimAcquire(gfp, this.taskFlags());
  }

  /** Leave reclaim. Models `fs_reclaim_release()`. */
  fsReclaimRelease(gfp: number): void {
    this.lockdep.fsReclaimRelease(gfp, this.taskFlags());
  }

  /** Install \@sim/rcu's reader accounting for PREEMPT_RT sleeping locks. */
  setRcuReadLockHooks(hooks: RcuReadLockHooks | null): void {
    this.rcuHooks = hooks;
  }

  /** lock_stat rows for every lock class that was created. */
  lockStat(): LockStatRow[] {
    return this.stat.rows();
  }

  /** Zero the lock_stat counters (`echo 0 > /proc/lock_stat`). */
  resetLockStat(): void {
    this.stat.reset();
  }

  /**
   * @internal PREEMPT_RT's `rtlock_might_resched()`: a sleep point that
   * tolerates the caller's RCU read-side nesting.
   */
  rtMightResched(site: string): void {
    this.machine.mightResched(site, 0, this.rcuHooks === null ? 0 : this.rcuHooks.depth());
  }

  /** @internal `rcu_read_lock()` implied by a PREEMPT_RT sleeping spinlock. */
  rtRcuEnter(): void {
    this.lockdep.rcuLockAcquire(this.lockdep.rcuLockMap);
    this.rcuHooks?.enter();
  }

  /** @internal */
  rtRcuExit(): void {
    this.rcuHooks?.exit();
    this.lockdep.rcuLockRelease(this.lockdep.rcuLockMap);
  }

  /** @internal a lockdep map of class `name` over a fresh word of `size` bytes. */
  newMap(name: string, desc: keyof typeof LockClassDescs, size: number): LockdepMap {
    this.checkName(name);
    const classId = this.lockdep.registerClass(name, LockClassDescs[desc]);
    const addr = this.machine.memory.memblockAlloc(size, 8);
    return this.lockdep.initMap(classId, addr, name);
  }

  // The current task's PF_MEMALLOC* scope flags (current->flags).
  private taskFlags(): number {
    return this.machine.current.memalloc.flags;
  }

  private checkName(name: string): void {
    if (typeof name !== 'string' || name.length === 0) {
      throw new LocksError(
        'BAD_NAME',
        `bad lock name ${JSON.stringify(name)}; accepted: a non-empty string such as '&zone->lock'`,
      );
    }
  }
}

/**
 * Create the locking layer of a machine (one per machine).
 * @throws {@link LocksError} `BAD_ARGUMENT` when the machine already has one.
 * @public
 */
export function createLocking(machine: Machine, options: LockingOptions = {}): Locking {
  if (perMachine.has(machine)) {
    throw new LocksError(
      'BAD_ARGUMENT',
      'this machine already has a locking layer; accepted: one createLocking() per machine',
    );
  }
  const l = new Locking(machine, options);
  perMachine.set(machine, l);
  return l;
}
