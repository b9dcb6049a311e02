import type { LockdepMap } from './lockdep/index.js';
import type { Locking } from './locking.js';
import type { SpinLock } from './spinlock.js';

/**
 * local_lock_t / local_trylock_t: a per-CPU lock.
 *
 * Off PREEMPT_RT it is preemption (or irqs) disabled plus a lockdep map and
 * the trylock variant's `acquired` byte, so a context that interrupted the
 * holder on the same CPU (an NMI, a tracing program) sees `isLocked()` and a
 * failing `trylock()`. On PREEMPT_RT it is a per-CPU spinlock_t taken with
 * migration disabled; `trylock()` fails at once in hardirq or NMI context and
 * `isLocked()` means "held by the current task". Lockdep wait type `{3:3}`,
 * LD_LOCK_PERCPU. Models include/linux/local_lock_internal.h.
 * @public
 */
export class LocalLock {
  private readonly acquired: Uint8Array;
  private readonly maps: LockdepMap[];
  private readonly words: Float64Array;
  private readonly site: number;
  private readonly rtLocks: SpinLock[] | null;

  /** @internal */
  constructor(
    private readonly locking: Locking,
    /** Lock class name, e.g. `&s->cpu_slab->lock`. */
    readonly name: string,
  ) {
    const m = locking.machine;
    const n = m.nrCpus;
    this.acquired = new Uint8Array(n);
    this.words = new Float64Array(n);
    this.site = m.siteId(`lock:${name}`);
    if (locking.rt) {
      this.rtLocks = [];
      this.maps = [];
      for (let c = 0; c < n; c++) {
        const l = locking.spinLockOfClass(name, 'localLock');
        this.rtLocks.push(l);
        this.maps.push(l.map);
        this.words[c] = l.addr;
      }
    } else {
      this.rtLocks = null;
      this.maps = [];
      for (let c = 0; c < n; c++) {
        const map = locking.newMap(name, 'localLock', 8);
        this.maps.push(map);
        this.words[c] = map.addr;
      }
    }
  }

  /** Take this CPU's lock. Models `local_lock()`. */
  lock(): void {
    const m = this.locking.machine;
    if (this.rtLocks !== null) {
      m.migrateDisable();
      this.rtLocks[m.cpu]!.lock();
      return;
    }
    m.preemptDisable();
    this.acquire(false);
  }

  /** Release this CPU's lock. Models `local_unlock()`. */
  unlock(): void {
    const m = this.locking.machine;
    if (this.rtLocks !== null) {
      this.rtLocks[m.cpu]!.unlock();
      m.migrateEnable();
      return;
    }
    this.release();
    m.preemptEnable();
  }

  /** Save and disable irqs (not on RT, flags 0) and take the lock. Models `local_lock_irqsave()`. */
  lockIrqsave(): number {
    const m = this.locking.machine;
    if (this.rtLocks !== null) {
      this.lock();
      return 0;
    }
    const flags = m.localIrqSave();
    this.acquire(false);
    return flags;
  }

  /** Release and restore irqs. Models `local_unlock_irqrestore()`. */
  unlockIrqrestore(flags: number): void {
    const m = this.locking.machine;
    if (this.rtLocks !== null) {
      this.unlock();
      return;
    }
    this.release();
    m.localIrqRestore(flags);
  }

  /**
   * Take the lock unless this CPU's instance is already held by an
   * interrupted context. Models `local_trylock()`.
   */
  trylock(): boolean {
    const m = this.locking.machine;
    if (this.rtLocks !== null) {
      if (m.inNmi() || m.inHardirq()) return false;
      m.migrateDisable();
      if (this.rtLocks[m.cpu]!.trylock()) return true;
      m.migrateEnable();
      return false;
    }
    m.preemptDisable();
    if (this.acquired[m.cpu] !== 0) {
      m.load(this.words[m.cpu]!, this.site);
      m.preemptEnable();
      return false;
    }
    this.acquire(true);
    return true;
  }

  /** `local_trylock_irqsave()`: the flags on success, -1 (irqs restored) on failure. */
  trylockIrqsave(): number {
    const m = this.locking.machine;
    if (this.rtLocks !== null) return this.trylock() ? 0 : -1;
    const flags = m.localIrqSave();
    if (this.acquired[m.cpu] !== 0) {
      m.load(this.words[m.cpu]!, this.site);
      m.localIrqRestore(flags);
      return -1;
    }
    this.acquire(true);
    return flags;
  }

  /**
   * Whether this CPU's lock is held (off RT: by any context on this CPU; on
   * RT: by the current task). Models `local_lock_is_locked()`.
   */
  isLocked(): boolean {
    const m = this.locking.machine;
    if (this.rtLocks !== null) {
      const core = this.rtLocks[m.cpu]!.core;
      return core.ownerCpu >= 0 && core.ownerTask === m.current;
    }
    return this.acquired[m.cpu] !== 0;
  }

  private acquire(trylock: boolean): void {
    const m = this.locking.machine;
    const c = m.cpu;
    this.locking.lockdep.acquire(this.maps[c]!, 0, trylock, 0, 1, null);
    this.acquired[c] = 1;
    m.store(this.words[c]!, 1, this.site);
  }

  private release(): void {
    const m = this.locking.machine;
    const c = m.cpu;
    this.locking.lockdep.lockRelease(this.maps[c]!);
    if (this.acquired[c] === 0) {
      m.report({
        kind: 'local-lock-imbalance',
        lines: [`WARNING: local_unlock of ${this.name} on CPU#${c}, which does not hold it`],
        details: { lock: this.name },
        taint: 'W',
        withStack: true,
      });
      return;
    }
    this.acquired[c] = 0;
    m.store(this.words[c]!, 0, this.site);
  }
}
