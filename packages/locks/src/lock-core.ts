import type { CacheModel, Machine, Task } from '@sim/cpu';
import { LocksError } from './errors.js';
import type { LockClassStat } from './lock-stat.js';
import type { LockdepMap } from './lockdep/index.js';
import type { Locking } from './locking.js';

/** `SPINLOCK_MAGIC` of kernel/locking/spinlock_debug.c, printed in spin_dump(). */
const SPINLOCK_MAGIC = 'dead4ead';

/**
 * State every lock shares: its word in simulated memory, its lockdep map,
 * its lock_stat record, who holds it now, and until when it was last held.
 *
 * Atomic code runs to completion, so between events a spinning lock is never
 * held; contention shows in virtual time instead. A lock released at time
 * `freeAt` on one CPU's clock is still held, as far as a CPU whose clock reads
 * less is concerned: that CPU spins (or a trylock fails) until `freeAt`.
 * @internal
 */
export class LockCore {
  /** Physical address of the lock word. */
  readonly addr: number;
  /** Cache-model site id, `lock:<name>`. */
  readonly site: number;
  /** lock_stat record of the class. */
  readonly stat: LockClassStat;
  /** CPU holding the lock now, or -1. */
  ownerCpu = -1;
  /**
   * Task that took the lock last: the holder while `ownerCpu >= 0`, stale
   * after the release (left in place so a lock taken again and again by one
   * task is not a pointer store each time).
   */
  ownerTask: Task | null = null;
  /** Virtual time of the current acquisition. */
  acquiredAt = 0;
  /** Virtual time of the last release. */
  freeAt = 0;
  private readonly m: Machine;
  private readonly rmwCost: number;
  // The lock word is touched on every acquire and release: go straight to the
  // cache model and to the word's page (what machine.store does, without
  // translating the address each time) to keep the pair cheap.
  private readonly cache: CacheModel;
  private readonly clock: Float64Array;
  private readonly word: Float64Array;
  private readonly wordIdx: number;
  private readonly line: number;

  constructor(
    readonly locking: Locking,
    readonly name: string,
    readonly map: LockdepMap,
  ) {
    this.m = locking.machine;
    this.rmwCost = locking.machine.costs.atomicRmw;
    this.cache = locking.machine.cache;
    this.clock = locking.machine.clock;
    this.addr = map.addr;
    this.wordIdx = (map.addr / 8) & 511;
    // spin_lock_init() stores the word, so its page exists from creation on.
    this.word = locking.machine.memory.pageWords(map.addr);
    this.site = locking.machine.siteId(`lock:${name}`);
    this.line = this.cache.lineNumber(map.addr);
    this.stat = locking.stat.record(name);
  }

  /** Whether the lock is held right now by some context. */
  isHeld(): boolean {
    return this.ownerCpu >= 0;
  }

  /** Whether taking the lock now would wait: held now, or until later in virtual time. */
  isContended(): boolean {
    return this.ownerCpu >= 0 || this.m.now() < this.freeAt;
  }

  /**
   * Try the lock word. Returns false, touching the line as a failed
   * `atomic_try_cmpxchg()` would, when held now or until later in virtual
   * time. Models `do_raw_spin_trylock()`.
   */
  tryTake(): boolean {
    const m = this.m;
    const cpu = m.cpu;
    const now = this.clock[cpu]!;
    if (this.ownerCpu >= 0 || now < this.freeAt) {
      m.load(this.addr, this.site);
      this.stat.tryFail += 1;
      return false;
    }
    this.take(cpu, now);
    return true;
  }

  /**
   * Spin until the lock is free in virtual time, then take it. A lock held
   * right now can never be released while this CPU spins (the holder is this
   * CPU's interrupted context, or a context that slept holding it), so that is
   * reported as the kernel's spinlock debugging or soft-lockup watchdog would,
   * and the simulation stops with a `DEADLOCK` error. Models
   * `do_raw_spin_lock()` with CONFIG_DEBUG_SPINLOCK.
   */
  spin(): void {
    const m = this.m;
    if (this.ownerCpu >= 0) this.deadlock();
    const cpu = m.cpu;
    const now = this.clock[cpu]!;
    if (now < this.freeAt) {
      const wait = this.freeAt - now;
      m.charge(wait);
      this.stat.contended(wait);
      this.take(cpu, this.clock[cpu]!);
      return;
    }
    // Uncontended: `now` stays a constant. Reassigning it after the wait instead
    // costs spin_lock()+spin_unlock() 390 -> 447 host instructions (bench:instr).
    this.take(cpu, now);
  }

  // The word is known to be free here, so the successful cmpxchg is a store
  // of the owner plus the cost of the atomic read-modify-write. `before` is
  // the CPU's clock, which the caller has just read.
  private take(cpu: number, before: number): void {
    this.word[this.wordIdx] = cpu + 1;
    const now = before + (this.cache.accessLine(cpu, this.line, true, this.site) + this.rmwCost);
    this.clock[cpu] = now;
    this.ownerCpu = cpu;
    const task = this.m.current;
    if (this.ownerTask !== task) this.ownerTask = task;
    this.acquiredAt = now;
    this.stat.acquisitions += 1;
  }

  /** Release the word. Models `do_raw_spin_unlock()` (debug checks included). */
  give(): void {
    const m = this.m;
    if (this.ownerCpu < 0) {
      this.spinBug('already unlocked');
      return;
    }
    const cpu = m.cpu;
    if (this.ownerCpu !== cpu) this.spinBug('wrong CPU');
    const clock = this.clock;
    const before = clock[cpu]!;
    this.stat.held(before - this.acquiredAt);
    this.word[this.wordIdx] = 0;
    const now = before + this.cache.accessLine(cpu, this.line, true, this.site);
    clock[cpu] = now;
    this.freeAt = now;
    this.ownerCpu = -1;
  }

  /** spin_dump(): "BUG: spinlock <msg> on CPU#N, comm/pid". */
  spinBug(msg: string): void {
    const m = this.locking.machine;
    const cur = m.current;
    const owner = this.ownerCpu >= 0 ? this.ownerTask : null;
    m.report({
      kind: 'spinlock-bug',
      lines: [
        `BUG: spinlock ${msg} on CPU#${m.cpu}, ${cur.comm}/${cur.pid}`,
        ` lock: ${this.name}+0x0/0x${(8).toString(16)}, .magic: ${SPINLOCK_MAGIC}, .owner: ${owner ? `${owner.comm}/${owner.pid}` : '<none>/-1'}, .owner_cpu: ${this.ownerCpu}`,
      ],
      details: {
        lock: this.name,
        message: msg,
        ownerCpu: this.ownerCpu,
        ownerPid: owner?.pid ?? -1,
      },
      withStack: true,
    });
  }

  private deadlock(): never {
    const m = this.locking.machine;
    const cur = m.current;
    if (this.ownerTask === cur || this.ownerCpu === m.cpu) {
      this.spinBug(this.ownerTask === cur ? 'recursion' : 'cpu recursion');
    } else {
      m.report({
        kind: 'soft-lockup',
        lines: [
          `watchdog: BUG: soft lockup - CPU#${m.cpu} stuck for 22s! [${cur.comm}:${cur.pid}]`,
        ],
        details: { lock: this.name, ownerCpu: this.ownerCpu },
        withStack: true,
      });
    }
    throw new LocksError(
      'DEADLOCK',
      `CPU#${m.cpu} (${cur.comm}/${cur.pid}) spins on ${this.name}, held by ${this.ownerTask ? `${this.ownerTask.comm}/${this.ownerTask.pid}` : 'nobody'} on CPU#${this.ownerCpu}: the simulated kernel would hang here`,
    );
  }
}
