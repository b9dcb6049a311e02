import { SpinningLock } from './spinning-lock.js';

/**
 * The frames of an rtmutex-based lock's sleep through `schedule_rtlock()`,
 * innermost first: every PREEMPT_RT spinlock_t and rwlock_t wait starts so
 * (kernel/sched/core.c). @internal
 */
export const SCHEDULE_RTLOCK_FRAMES: readonly string[] = [
  '__schedule_bug',
  '__schedule',
  'schedule_rtlock',
];
// The sleep of a contended spinlock_t (kernel/locking/rtmutex.c, spinlock_rt.c).
const RTLOCK_SCHEDULE_FRAMES: readonly string[] = [
  ...SCHEDULE_RTLOCK_FRAMES,
  'rtlock_slowlock_locked',
  'rt_spin_lock',
];

/** Source position of `rtlock_might_resched()` reported on PREEMPT_RT. */
const SPINLOCK_RT_SITE = 'kernel/locking/spinlock_rt.c:48';

/**
 * spinlock_t. Off PREEMPT_RT it is a raw spinlock; on PREEMPT_RT
 * {@link Locking.spinLock} creates the {@link RtSpinLock} subclass instead.
 * Lockdep wait type `{3:3}`. Models include/linux/spinlock.h.
 * @public
 */
export class SpinLock extends SpinningLock {}

/**
 * spinlock_t on PREEMPT_RT: a sleeping rtmutex-based lock. It disables
 * migration instead of preemption, its `_irq*` forms leave interrupts enabled
 * (flags are 0), it implies an RCU read-side section, and taking it is a sleep
 * point, so taking it where the caller may not sleep (under a raw spinlock,
 * with preemption or irqs disabled) reports "BUG: sleeping function called
 * from invalid context at kernel/locking/spinlock_rt.c". Models
 * include/linux/spinlock_rt.h and kernel/locking/spinlock_rt.c.
 * @public
 */
export class RtSpinLock extends SpinLock {
  override lock(): void {
    this.rtLock(0);
  }

  override lockNested(subclass: number): void {
    this.rtLock(subclass);
  }

  override unlock(): void {
    this.rtUnlock();
  }

  override trylock(): boolean {
    const m = this.m;
    // rt_spin_trylock(): no might_resched, but the same migrate/RCU pinning.
    this.locking.rtRcuEnter();
    m.migrateDisable();
    if (this.core.tryTake()) {
      this.ld.acquire(this.map, 0, true, 0, 1, null);
      return true;
    }
    m.migrateEnable();
    this.locking.rtRcuExit();
    return false;
  }

  /** `pcpu_spin_trylock()` on PREEMPT_RT: `migrate_disable()`, then `rt_spin_trylock()`. */
  override pinTrylock(): boolean {
    const m = this.m;
    m.migrateDisable();
    if (this.trylock()) return true;
    m.migrateEnable();
    return false;
  }

  /** `pcpu_spin_unlock()` on PREEMPT_RT: `rt_spin_unlock()`, then `migrate_enable()`. */
  override unlockUnpin(): void {
    this.rtUnlock();
    this.m.migrateEnable();
  }

  override lockIrqsave(): number {
    this.rtLock(0);
    return 0;
  }

  override unlockIrqrestore(_flags: number): void {
    this.rtUnlock();
  }

  override trylockIrqsave(): number {
    return this.trylock() ? 0 : -1;
  }

  override lockIrq(): void {
    this.rtLock(0);
  }

  override unlockIrq(): void {
    this.rtUnlock();
  }

  override lockBh(): void {
    this.m.localBhDisable();
    this.rtLock(0);
  }

  override unlockBh(): void {
    this.rtUnlock();
    this.m.localBhEnable();
  }

  // rt_spin_lock(): might-resched check, RCU read lock, migrate_disable, then
  // the rtmutex, whose contended path sleeps (charged as waiting time). That
  // sleep goes through schedule_debug() in rtlock_slowlock_locked(), which
  // reports it when the caller is atomic.
  private rtLock(subclass: number): void {
    this.locking.rtMightResched(SPINLOCK_RT_SITE);
    this.locking.rtRcuEnter();
    this.m.migrateDisable();
    this.ld.acquire(this.map, subclass, false, 0, 1, null);
    if (this.core.isContended()) this.m.scheduleDebug(RTLOCK_SCHEDULE_FRAMES);
    this.core.spin();
  }

  private rtUnlock(): void {
    this.releaseSpin();
    this.m.migrateEnable();
    this.locking.rtRcuExit();
  }
}
