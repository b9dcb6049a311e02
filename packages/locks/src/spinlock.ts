import { SpinningLock } from './spinning-lock.js';

/** Source position of `rtlock_might_resched()` reported on PREEMPT_RT. */
const SPINLOCK_RT_SITE = 'kernel/locking/spinlock_rt.c:48';

/**
 * spinlock_t. Off PREEMPT_RT it is a raw spinlock. On PREEMPT_RT it is a
 * sleeping rtmutex-based lock: it disables migration instead of preemption,
 * its `_irq*` forms leave interrupts enabled (flags are 0), it implies an RCU
 * read-side section, and taking it is a sleep point, so taking it where the
 * caller may not sleep (under a raw spinlock, with preemption or irqs
 * disabled) reports "BUG: sleeping function called from invalid context at
 * kernel/locking/spinlock_rt.c". Lockdep wait type `{3:3}`. Models
 * include/linux/spinlock_rt.h and kernel/locking/spinlock_rt.c.
 * @public
 */
export class SpinLock extends SpinningLock {
  override lock(): void {
    if (!this.locking.rt) {
      super.lock();
      return;
    }
    this.rtLock(0);
  }

  override lockNested(subclass: number): void {
    if (!this.locking.rt) {
      super.lockNested(subclass);
      return;
    }
    this.rtLock(subclass);
  }

  override unlock(): void {
    if (!this.locking.rt) {
      super.unlock();
      return;
    }
    this.rtUnlock();
  }

  override trylock(): boolean {
    if (!this.locking.rt) return super.trylock();
    const m = this.locking.machine;
    // rt_spin_trylock(): no might_resched, but the same migrate/RCU pinning.
    this.locking.rtRcuEnter();
    m.migrateDisable();
    if (this.core.tryTake()) {
      this.locking.lockdep.acquire(this.map, 0, true, 0, 1, null);
      return true;
    }
    m.migrateEnable();
    this.locking.rtRcuExit();
    return false;
  }

  override lockIrqsave(): number {
    if (!this.locking.rt) return super.lockIrqsave();
    this.rtLock(0);
    return 0;
  }

  override unlockIrqrestore(flags: number): void {
    if (!this.locking.rt) {
      super.unlockIrqrestore(flags);
      return;
    }
    this.rtUnlock();
  }

  override trylockIrqsave(): number {
    if (!this.locking.rt) return super.trylockIrqsave();
    return this.trylock() ? 0 : -1;
  }

  override lockIrq(): void {
    if (!this.locking.rt) {
      super.lockIrq();
      return;
    }
    this.rtLock(0);
  }

  override unlockIrq(): void {
    if (!this.locking.rt) {
      super.unlockIrq();
      return;
    }
    this.rtUnlock();
  }

  override lockBh(): void {
    if (!this.locking.rt) {
      super.lockBh();
      return;
    }
    this.locking.machine.localBhDisable();
    this.rtLock(0);
  }

  override unlockBh(): void {
    if (!this.locking.rt) {
      super.unlockBh();
      return;
    }
    this.rtUnlock();
    this.locking.machine.localBhEnable();
  }

  // rt_spin_lock(): might-resched check, RCU read lock, migrate_disable, then
  // the rtmutex, whose contended path sleeps (charged as waiting time).
  private rtLock(subclass: number): void {
    const m = this.locking.machine;
    this.locking.rtMightResched(SPINLOCK_RT_SITE);
    this.locking.rtRcuEnter();
    m.migrateDisable();
    this.acquireSpin(subclass);
  }

  private rtUnlock(): void {
    const m = this.locking.machine;
    this.releaseSpin();
    m.migrateEnable();
    this.locking.rtRcuExit();
  }
}
