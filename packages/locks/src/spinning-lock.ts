import type { Machine } from '@sim/cpu';
import { LockCore } from './lock-core.js';
import type { Lockdep, LockdepMap } from './lockdep/index.js';
import type { Locking } from './locking.js';

/**
 * The spinning lock protocol shared by raw_spinlock_t and (off PREEMPT_RT)
 * spinlock_t: disable preemption (and irqs or bottom halves for the `_irq*`
 * and `_bh` forms), tell lockdep, then spin. Models
 * include/linux/spinlock_api_smp.h (`__raw_spin_lock*()`).
 * @public
 */
export class SpinningLock {
  /** @internal */
  readonly core: LockCore;
  /** The lockdep map (`lock->dep_map`). */
  readonly map: LockdepMap;
  /** @internal */
  protected readonly m: Machine;
  /** @internal */
  protected readonly ld: Lockdep;

  /** @internal */
  constructor(
    protected readonly locking: Locking,
    /** Lock class name as lockdep prints it, e.g. `&zone->lock`. */
    readonly name: string,
    map: LockdepMap,
  ) {
    this.map = map;
    this.m = locking.machine;
    this.ld = locking.lockdep;
    this.core = new LockCore(locking, name, map);
  }

  /** Physical address of the lock word. */
  get addr(): number {
    return this.core.addr;
  }

  /** Whether some context holds the lock now. Models `spin_is_locked()`. */
  isLocked(): boolean {
    return this.core.isHeld();
  }

  /** Take the lock. Models `spin_lock()` / `raw_spin_lock()`. */
  lock(): void {
    this.m.preemptDisable();
    this.ld.acquire(this.map, 0, false, 0, 1, null);
    this.core.spin();
  }

  /** Take a lock of the same class as one already held. Models `spin_lock_nested()`. */
  lockNested(subclass: number): void {
    this.locking.machine.preemptDisable();
    this.acquireSpin(subclass);
  }

  /** Release the lock. Models `spin_unlock()`. */
  unlock(): void {
    // releaseSpin() written out: calling it makes spin_lock()+spin_unlock()
    // 379 -> 446 host instructions (bench:instr lock-pair).
    this.ld.lockRelease(this.map);
    this.core.give();
    this.m.preemptEnable();
  }

  /** Try once without spinning. Models `spin_trylock()`. */
  trylock(): boolean {
    return this.tryAt(1);
  }

  /**
   * Pin the task to this CPU, then {@link SpinningLock.trylock}; on failure
   * unpin again. Models the `pcpu_task_pin()` + `spin_trylock()` of
   * `pcpu_spin_trylock()` (mm/page_alloc.c). Off PREEMPT_RT the pin is a
   * `preempt_disable()`, and both preempt_count increments go in one
   * update: the same count, cost and records as two calls. A PREEMPT_RT
   * spinlock_t pins with `migrate_disable()` ({@link RtSpinLock}).
   */
  pinTrylock(): boolean {
    return this.tryAt(2);
  }

  /**
   * {@link SpinningLock.unlock}, then drop the pin of
   * {@link SpinningLock.pinTrylock}. Models `pcpu_spin_unlock()`.
   */
  unlockUnpin(): void {
    this.releaseSpin();
    this.m.preemptCountSub(2);
  }

  /** `spin_trylock()` with `levels` preempt_count levels taken first (dropped again on failure). */
  private tryAt(levels: number): boolean {
    const m = this.m;
    m.preemptCountAdd(levels);
    if (this.core.tryTake()) {
      this.ld.acquire(this.map, 0, true, 0, 1, null);
      return true;
    }
    m.preemptCountSub(levels);
    return false;
  }

  /** Disable irqs, saving their state, and take the lock. Models `spin_lock_irqsave()`. */
  lockIrqsave(): number {
    const m = this.locking.machine;
    const flags = m.localIrqSave();
    m.preemptDisable();
    this.acquireSpin(0);
    return flags;
  }

  /**
   * Release and restore irqs, where a pending interrupt is taken. Models
   * `spin_unlock_irqrestore()`.
   */
  unlockIrqrestore(flags: number): void {
    const m = this.locking.machine;
    this.releaseSpin();
    m.localIrqRestore(flags);
    m.preemptEnable();
    m.probe(this.locking.probeUnlockIrqrestore);
  }

  /** Try with irqs saved; returns the flags, or -1 (irqs restored) on failure. Models `spin_trylock_irqsave()`. */
  trylockIrqsave(): number {
    const m = this.locking.machine;
    const flags = m.localIrqSave();
    if (this.trylock()) return flags;
    m.localIrqRestore(flags);
    return -1;
  }

  /** Disable irqs and take the lock. Models `spin_lock_irq()`. */
  lockIrq(): void {
    const m = this.locking.machine;
    m.localIrqDisable();
    m.preemptDisable();
    this.acquireSpin(0);
  }

  /** Release and enable irqs. Models `spin_unlock_irq()`. */
  unlockIrq(): void {
    const m = this.locking.machine;
    this.releaseSpin();
    m.localIrqEnable();
    m.preemptEnable();
  }

  /** Disable bottom halves and take the lock. Models `spin_lock_bh()`. */
  lockBh(): void {
    const m = this.locking.machine;
    m.localBhDisable();
    m.preemptDisable();
    this.acquireSpin(0);
  }

  /** Release and enable bottom halves (pending softirqs may run). Models `spin_unlock_bh()`. */
  unlockBh(): void {
    const m = this.locking.machine;
    this.releaseSpin();
    m.preemptEnable();
    m.localBhEnable();
  }

  /** `spin_acquire()` then the arch lock: lockdep sees the attempt before any spinning. */
  protected acquireSpin(subclass: number): void {
    this.ld.acquire(this.map, subclass, false, 0, 1, null);
    this.core.spin();
  }

  /** `spin_release()` then the arch unlock. */
  protected releaseSpin(): void {
    this.ld.lockRelease(this.map);
    this.core.give();
  }
}

/**
 * raw_spinlock_t: always spins and disables preemption, on every preempt
 * model, PREEMPT_RT included. Lockdep wait type `{2:2}`.
 * @public
 */
export class RawSpinLock extends SpinningLock {}
