import type { Task, Wait } from '@sim/cpu';
import { TASK_UNINTERRUPTIBLE } from '@sim/cpu';
import { LocksError } from './errors.js';
import type { LockClassStat } from './lock-stat.js';
import type { LockdepMap } from './lockdep/index.js';
import type { Locking } from './locking.js';

/** Where `mutex_lock()`'s might_sleep() reports from. */
const MUTEX_SITE = 'kernel/locking/mutex.c:580';

/**
 * struct mutex: a sleeping lock with an owner and FIFO hand-off to waiters.
 * `lock()` is a generator (it may sleep); `trylock()` and `unlock()` are
 * plain functions. Lockdep wait type `{4:4}`, so taking it under any spinning
 * lock or RCU read-side section is an Invalid wait context. Models
 * kernel/locking/mutex.c.
 * @public
 */
export class Mutex {
  private readonly site: number;
  private readonly stat: LockClassStat;
  private owner: Task | null = null;
  private acquiredAt = 0;
  private freeAt = 0;
  private readonly waiters: Task[] = [];

  /** @internal */
  constructor(
    private readonly locking: Locking,
    /** Lock class name, e.g. `&dev->mutex`. */
    readonly name: string,
    /** The lockdep map. */
    readonly map: LockdepMap,
  ) {
    this.site = locking.machine.siteId(`lock:${name}`);
    this.stat = locking.stat.record(name);
  }

  /** Physical address of the owner word. */
  get addr(): number {
    return this.map.addr;
  }

  /** Whether a task owns the mutex. Models `mutex_is_locked()`. */
  isLocked(): boolean {
    return this.owner !== null;
  }

  /** The owning task, or null. */
  ownerTask(): Task | null {
    return this.owner;
  }

  /**
   * Take the mutex, sleeping while another task owns it. Models
   * `mutex_lock()` / `mutex_lock_nested()`.
   */
  *lock(subclass = 0): Generator<Wait<unknown>, void, unknown> {
    const m = this.locking.machine;
    m.mightSleep(MUTEX_SITE);
    this.locking.lockdep.acquire(this.map, subclass, false, 0, 1, null);
    let waited = false;
    const start = m.now();
    for (;;) {
      if (this.owner === null) {
        const now = m.now();
        // Released later in virtual time by another CPU: sleep until then.
        if (now < this.freeAt) {
          waited = true;
          yield m.sleep(this.freeAt - now);
          continue;
        }
        this.take();
        break;
      }
      // Owned (by another task, or by this one after lockdep reported the
      // recursion, when the task sleeps for ever as the kernel's would).
      waited = true;
      this.waiters.push(m.current);
      m.setCurrentState(TASK_UNINTERRUPTIBLE);
      yield m.schedule();
      // Hand-off: unlock() made us the owner before waking us.
      if (this.owner === m.current) break;
    }
    if (waited) this.stat.contended(m.now() - start);
    this.stat.acquisitions += 1;
    this.acquiredAt = m.now();
  }

  /** Take the mutex if free, without sleeping. Models `mutex_trylock()`. */
  trylock(): boolean {
    const m = this.locking.machine;
    if (this.owner !== null || m.now() < this.freeAt) {
      m.load(this.addr, this.site);
      this.stat.tryFail += 1;
      return false;
    }
    this.locking.lockdep.acquire(this.map, 0, true, 0, 1, null);
    this.take();
    this.stat.acquisitions += 1;
    this.acquiredAt = m.now();
    return true;
  }

  /**
   * Release the mutex, handing it to the first waiter. Only the owner may
   * unlock; others get the kernel's `DEBUG_LOCKS_WARN_ON` report. Models
   * `mutex_unlock()`.
   */
  unlock(): void {
    const m = this.locking.machine;
    this.locking.lockdep.lockRelease(this.map);
    if (this.owner !== m.current) {
      m.report({
        kind: 'mutex-bad-unlock',
        lines: [
          `DEBUG_LOCKS_WARN_ON(__owner_task(owner) != current)`,
          `WARNING: CPU: ${m.cpu} PID: ${m.current.pid} at kernel/locking/mutex.c:${this.owner === null ? 930 : 932} __mutex_unlock_slowpath`,
        ],
        details: { lock: this.name, owner: this.owner?.pid ?? null },
        taint: 'W',
        withStack: true,
      });
      if (this.owner === null) return;
    }
    this.stat.held(m.now() - this.acquiredAt);
    const next = this.waiters.shift();
    if (next !== undefined) {
      this.owner = next;
      m.store(this.addr, next.pid, this.site);
      m.wakeUpProcess(next);
      return;
    }
    this.owner = null;
    m.store(this.addr, 0, this.site);
    this.freeAt = m.now();
  }

  private take(): void {
    const m = this.locking.machine;
    const cur = m.current;
    if (cur.isIdle) {
      throw new LocksError('BAD_ARGUMENT', `mutex ${this.name} taken by the idle task`);
    }
    m.cmpxchg(this.addr, 0, cur.pid, this.site);
    this.owner = cur;
  }
}
