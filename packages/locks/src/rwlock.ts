import { LocksError } from './errors.js';
import type { LockClassStat } from './lock-stat.js';
import type { LockdepMap } from './lockdep/index.js';
import type { Locking } from './locking.js';
import { SCHEDULE_RTLOCK_FRAMES } from './spinlock.js';

const IRQSAVE = 1;
const IRQ = 2;
const BH = 4;
const SPINLOCK_RT_SITE = 'kernel/locking/spinlock_rt.c:48';
// The sleep of a contended rwbase_rt writer or reader, innermost first
// (kernel/locking/rwbase_rt.c, spinlock_rt.c).
const RWBASE_WRITE_FRAMES: readonly string[] = [
  ...SCHEDULE_RTLOCK_FRAMES,
  'rwbase_write_lock',
  'rt_write_lock',
];
const RWBASE_READ_FRAMES: readonly string[] = [
  ...SCHEDULE_RTLOCK_FRAMES,
  '__rwbase_read_lock',
  'rt_read_lock',
];

/**
 * rwlock_t: many readers or one writer. Off PREEMPT_RT a spinning lock that
 * disables preemption; readers are recursive for lockdep where the kernel's
 * `read_lock_is_recursive()` says so (in interrupt context with queued
 * rwlocks). On PREEMPT_RT a sleeping lock with the same pinning as
 * spinlock_t. Lockdep wait type `{3:3}`. Models include/linux/rwlock_api_smp.h
 * and kernel/locking/spinlock_rt.c (`rt_read_lock()`, `rt_write_lock()`).
 * @public
 */
export class RwLock {
  private readonly site: number;
  private readonly stat: LockClassStat;
  private readers = 0;
  private writerCpu = -1;
  private readersFreeAt = 0;
  private writerFreeAt = 0;
  private acquiredAt = 0;

  /** @internal */
  constructor(
    private readonly locking: Locking,
    /** Lock class name, e.g. `&tasklist_lock`. */
    readonly name: string,
    /** The lockdep map. */
    readonly map: LockdepMap,
  ) {
    this.site = locking.machine.siteId(`lock:${name}`);
    this.stat = locking.stat.record(name);
  }

  /** Whether a writer holds it. Models `rwlock_is_contended()`'s owner test. */
  isWriteLocked(): boolean {
    return this.writerCpu >= 0;
  }

  /** Number of readers holding it now. */
  readerCount(): number {
    return this.readers;
  }

  /** `read_lock()`. */
  readLock(): void {
    this.pre(0);
    this.takeRead();
  }
  /** `read_unlock()`. */
  readUnlock(): void {
    this.dropRead();
    this.post(0, 0);
  }
  /** `read_lock_irqsave()`; returns the flags (0 on RT). */
  readLockIrqsave(): number {
    const flags = this.pre(IRQSAVE);
    this.takeRead();
    return flags;
  }
  /** `read_unlock_irqrestore()`. */
  readUnlockIrqrestore(flags: number): void {
    this.dropRead();
    this.post(IRQSAVE, flags);
  }
  /** `read_lock_irq()`. */
  readLockIrq(): void {
    this.pre(IRQ);
    this.takeRead();
  }
  /** `read_unlock_irq()`. */
  readUnlockIrq(): void {
    this.dropRead();
    this.post(IRQ, 0);
  }
  /** `read_lock_bh()`. */
  readLockBh(): void {
    this.pre(BH);
    this.takeRead();
  }
  /** `read_unlock_bh()`. */
  readUnlockBh(): void {
    this.dropRead();
    this.post(BH, 0);
  }
  /** `read_trylock()`. */
  readTrylock(): boolean {
    this.pre(0);
    const m = this.locking.machine;
    if (this.writerCpu >= 0 || m.now() < this.writerFreeAt) {
      this.failTry();
      return false;
    }
    this.locking.lockdep.acquire(this.map, 0, true, this.readMode(), 1, null);
    this.grantRead();
    return true;
  }

  /** `write_lock()`. */
  writeLock(): void {
    this.pre(0);
    this.takeWrite();
  }
  /** `write_unlock()`. */
  writeUnlock(): void {
    this.dropWrite();
    this.post(0, 0);
  }
  /** `write_lock_irqsave()`; returns the flags (0 on RT). */
  writeLockIrqsave(): number {
    const flags = this.pre(IRQSAVE);
    this.takeWrite();
    return flags;
  }
  /** `write_unlock_irqrestore()`. */
  writeUnlockIrqrestore(flags: number): void {
    this.dropWrite();
    this.post(IRQSAVE, flags);
  }
  /** `write_lock_irq()`. */
  writeLockIrq(): void {
    this.pre(IRQ);
    this.takeWrite();
  }
  /** `write_unlock_irq()`. */
  writeUnlockIrq(): void {
    this.dropWrite();
    this.post(IRQ, 0);
  }
  /** `write_lock_bh()`. */
  writeLockBh(): void {
    this.pre(BH);
    this.takeWrite();
  }
  /** `write_unlock_bh()`. */
  writeUnlockBh(): void {
    this.dropWrite();
    this.post(BH, 0);
  }
  /** `write_trylock()`. */
  writeTrylock(): boolean {
    this.pre(0);
    const m = this.locking.machine;
    const free = Math.max(this.writerFreeAt, this.readersFreeAt);
    if (this.writerCpu >= 0 || this.readers > 0 || m.now() < free) {
      this.failTry();
      return false;
    }
    this.locking.lockdep.acquire(this.map, 0, true, 0, 1, null);
    this.grantWrite();
    return true;
  }

  private readMode(): number {
    return this.locking.lockdep.readLockIsRecursive() ? 2 : 1;
  }

  private pre(mode: number): number {
    const m = this.locking.machine;
    if (this.locking.rt) {
      if ((mode & BH) !== 0) m.localBhDisable();
      this.locking.rtMightResched(SPINLOCK_RT_SITE);
      this.locking.rtRcuEnter();
      m.migrateDisable();
      return 0;
    }
    let flags = 0;
    if ((mode & IRQSAVE) !== 0) flags = m.localIrqSave();
    else if ((mode & IRQ) !== 0) m.localIrqDisable();
    else if ((mode & BH) !== 0) m.localBhDisable();
    m.preemptDisable();
    return flags;
  }

  private post(mode: number, flags: number): void {
    const m = this.locking.machine;
    if (this.locking.rt) {
      m.migrateEnable();
      this.locking.rtRcuExit();
      if ((mode & BH) !== 0) m.localBhEnable();
      return;
    }
    if ((mode & IRQSAVE) !== 0) m.localIrqRestore(flags);
    else if ((mode & IRQ) !== 0) m.localIrqEnable();
    m.preemptEnable();
    if ((mode & BH) !== 0) m.localBhEnable();
  }

  private failTry(): void {
    const m = this.locking.machine;
    m.load(this.map.addr, this.site);
    this.stat.tryFail += 1;
    if (this.locking.rt) {
      m.migrateEnable();
      this.locking.rtRcuExit();
    } else {
      m.preemptEnable();
    }
  }

  private takeRead(): void {
    this.locking.lockdep.acquire(this.map, 0, false, this.readMode(), 1, null);
    if (this.writerCpu >= 0) this.deadlock('read');
    this.waitUntil(this.writerFreeAt, RWBASE_READ_FRAMES);
    this.grantRead();
  }

  private grantRead(): void {
    const m = this.locking.machine;
    this.readers++;
    m.cmpxchg(this.map.addr, this.readers - 1, this.readers, this.site);
    this.stat.acquisitions += 1;
  }

  private dropRead(): void {
    const m = this.locking.machine;
    this.locking.lockdep.lockRelease(this.map);
    if (this.readers === 0) {
      this.bug('read_unlock of an rwlock with no readers');
      return;
    }
    this.readers--;
    m.store(this.map.addr, this.readers, this.site);
    if (m.now() > this.readersFreeAt) this.readersFreeAt = m.now();
  }

  private takeWrite(): void {
    this.locking.lockdep.acquire(this.map, 0, false, 0, 1, null);
    if (this.writerCpu >= 0 || this.readers > 0) this.deadlock('write');
    this.waitUntil(Math.max(this.writerFreeAt, this.readersFreeAt), RWBASE_WRITE_FRAMES);
    this.grantWrite();
  }

  private grantWrite(): void {
    const m = this.locking.machine;
    m.cmpxchg(this.map.addr, 0, -1 >>> 1, this.site);
    this.writerCpu = m.cpu;
    this.acquiredAt = m.now();
    this.stat.acquisitions += 1;
  }

  private dropWrite(): void {
    const m = this.locking.machine;
    this.locking.lockdep.lockRelease(this.map);
    if (this.writerCpu < 0) {
      this.bug('write_unlock of an rwlock that is not write-locked');
      return;
    }
    this.stat.held(m.now() - this.acquiredAt);
    this.writerCpu = -1;
    m.store(this.map.addr, 0, this.site);
    this.writerFreeAt = m.now();
  }

  private waitUntil(t: number, rtFrames: readonly string[]): void {
    const m = this.locking.machine;
    const now = m.now();
    if (now < t) {
      // PREEMPT_RT's rwlock_t is an rwbase_rt on an rtmutex: the waiter sleeps,
      // and schedule_debug() reports it from atomic context.
      if (this.locking.rt) m.scheduleDebug(rtFrames);
      m.charge(t - now);
      this.stat.contended(t - now);
    }
  }

  private bug(msg: string): void {
    const m = this.locking.machine;
    m.report({
      kind: 'rwlock-bug',
      lines: [`BUG: rwlock ${msg} on CPU#${m.cpu}, ${m.current.comm}/${m.current.pid}`],
      details: { lock: this.name },
      withStack: true,
    });
  }

  private deadlock(kind: 'read' | 'write'): never {
    const m = this.locking.machine;
    this.bug(`${kind === 'read' ? 'recursion' : 'lockup suspected'}`);
    throw new LocksError(
      'DEADLOCK',
      `CPU#${m.cpu} ${kind}-locks ${this.name}, which ${this.writerCpu >= 0 ? `CPU#${this.writerCpu} write-holds` : `${this.readers} reader(s) hold`}: the simulated kernel would hang here`,
    );
  }
}
