import { describe, expect, it } from 'vitest';
import { boot, kinds, MS, task } from './boot.js';

describe('the read side', { timeout: 30_000 }, () => {
  it('rcu_dereference() outside a reader is "suspicious RCU usage"; inside one it is fine', () => {
    const { m, rcu } = boot();
    const gp = m.memory.memblockAlloc(8, 8);
    task(m, function* () {
      rcu.rcuAssignPointer(gp, 0x1000);
      rcu.rcuReadLock();
      expect(rcu.rcuDereference(gp, 'net/core/dev.c:100')).toBe(0x1000);
      rcu.rcuReadUnlock();
      expect(m.reports()).toHaveLength(0);
      rcu.rcuDereference(gp, 'net/core/dev.c:200');
      yield m.sleep(1000);
    });
    m.run({ until: 10 * MS });
    expect(kinds(m)).toEqual(['lockdep-rcu-suspicious']);
    expect(m.dmesg()).toContain('WARNING: suspicious RCU usage');
    expect(m.dmesg()).toContain('net/core/dev.c:200 suspicious rcu_dereference_check() usage!');
  });

  it('the _bh, _sched, _check and _protected forms accept their own protection', () => {
    const { m, rcu } = boot();
    const gp = m.memory.memblockAlloc(8, 8);
    task(m, function* () {
      rcu.rcuReadLockBh();
      rcu.rcuDereferenceBh(gp, 'a.c:1');
      rcu.rcuReadUnlockBh();
      rcu.rcuReadLockSched();
      rcu.rcuDereferenceSched(gp, 'a.c:2');
      rcu.rcuReadUnlockSched();
      m.preemptDisable();
      rcu.rcuDereferenceSched(gp, 'a.c:3');
      m.preemptEnable();
      rcu.rcuDereferenceCheck(gp, true, 'a.c:4');
      rcu.rcuDereferenceProtected(gp, true, 'a.c:5');
      expect(m.reports()).toHaveLength(0);
      rcu.rcuDereferenceProtected(gp, false, 'a.c:6');
      yield m.sleep(1000);
    });
    m.run({ until: 10 * MS });
    expect(m.dmesg()).toContain('a.c:6 suspicious rcu_dereference_protected() usage!');
  });

  it('sleeping inside rcu_read_lock(): preemptible RCU prints the nesting depth, non-preemptible the preempt count', () => {
    const a = boot({ machine: { preempt: 'full' } });
    task(a.m, function* () {
      a.rcu.rcuReadLock();
      expect(a.rcu.rcuPreemptDepth()).toBe(1);
      a.m.mightSleep('drivers/foo.c:42');
      a.rcu.rcuReadUnlock();
      yield a.m.sleep(1000);
    });
    a.m.run({ until: 10 * MS });
    expect(a.m.dmesg()).toContain(
      'BUG: sleeping function called from invalid context at drivers/foo.c:42',
    );
    expect(a.m.dmesg()).toContain('RCU nest depth: 1, expected: 0');
    const b = boot({ machine: { preempt: 'voluntary' } });
    task(b.m, function* () {
      b.rcu.rcuReadLock();
      expect(b.rcu.rcuPreemptDepth()).toBe(0);
      b.m.mightSleep('drivers/foo.c:42');
      b.rcu.rcuReadUnlock();
      yield b.m.sleep(1000);
    });
    b.m.run({ until: 10 * MS });
    expect(b.m.dmesg()).toContain('in_atomic(): 1');
    expect(b.m.dmesg()).not.toContain('RCU nest depth');
  });

  it('lockdep wait types: mutex under rcu_read_lock() and spinlock_t under rcu_read_lock_sched() are invalid', () => {
    const a = boot();
    const mtx = a.locking.mutex('&dev->mutex');
    task(a.m, function* () {
      a.rcu.rcuReadLock();
      yield* mtx.lock();
      mtx.unlock();
      a.rcu.rcuReadUnlock();
    });
    a.m.run({ until: 10 * MS });
    expect(kinds(a.m)).toContain('lockdep-invalid-wait-context');
    const b = boot();
    const sl = b.locking.spinLock('&foo->lock');
    task(b.m, function* () {
      b.rcu.rcuReadLock();
      sl.lock();
      sl.unlock();
      b.rcu.rcuReadUnlock();
      expect(b.m.reports()).toHaveLength(0);
      b.rcu.rcuReadLockSched();
      sl.lock();
      sl.unlock();
      b.rcu.rcuReadUnlockSched();
      yield b.m.sleep(1000);
    });
    b.m.run({ until: 10 * MS });
    expect(kinds(b.m)).toEqual(['lockdep-invalid-wait-context']);
  });

  it('PREEMPT_RT: a sleeping spinlock_t is an RCU reader, so holding it across preemption blocks the grace period', () => {
    const { m, rcu, locking } = boot({ machine: { preempt: 'rt' }, rcu: { oracle: true } });
    const sl = locking.spinLock('&obj->lock');
    let unlockAt = 0;
    let gpEnd = 0;
    task(
      m,
      function* () {
        sl.lock();
        expect(rcu.rcuPreemptDepth()).toBe(1);
        yield m.busy(5 * MS);
        unlockAt = m.now();
        sl.unlock();
        expect(rcu.rcuPreemptDepth()).toBe(0);
      },
      { cpu: 1 },
    );
    task(
      m,
      function* () {
        yield m.sleep(1 * MS);
        yield m.busy(20 * MS);
      },
      { cpu: 1, prio: 5 },
    );
    task(
      m,
      function* () {
        yield m.sleep(2 * MS);
        yield* rcu.synchronizeRcu();
        gpEnd = m.now();
      },
      { cpu: 0 },
    );
    m.run({ until: 100 * MS });
    expect(unlockAt).toBeGreaterThan(20 * MS);
    expect(gpEnd).toBeGreaterThan(unlockAt);
    expect(rcu.oracle!.violations).toEqual([]);
  });

  it('PREEMPT_RT: rcu_read_lock_bh() is also an rcu_read_lock()', () => {
    const { m, rcu } = boot({ machine: { preempt: 'rt' } });
    task(m, function* () {
      rcu.rcuReadLockBh();
      expect(rcu.rcuPreemptDepth()).toBe(1);
      rcu.rcuReadUnlockBh();
      expect(rcu.rcuPreemptDepth()).toBe(0);
      yield m.sleep(1000);
    });
    m.run({ until: 10 * MS });
    expect(m.reports()).toHaveLength(0);
  });

  it('an unbalanced rcu_read_unlock() is reported once', () => {
    const { m, rcu } = boot({ machine: { preempt: 'full' }, lockdep: false });
    task(m, function* () {
      rcu.rcuReadUnlock();
      rcu.rcuReadUnlock();
      yield m.sleep(1000);
    });
    m.run({ until: 10 * MS });
    expect(kinds(m)).toEqual(['rcu-read-unlock-imbalance']);
  });

  it('preemptible RCU warns about a voluntary context switch inside a reader', () => {
    const { m, rcu } = boot({ machine: { preempt: 'full' }, lockdep: false });
    task(m, function* () {
      rcu.rcuReadLock();
      yield m.sleep(2 * MS);
      rcu.rcuReadUnlock();
    });
    m.run({ until: 50 * MS });
    expect(kinds(m)).toContain('rcu-voluntary-switch-in-reader');
    expect(m.dmesg()).toContain('Voluntary context switch within RCU read-side critical section!');
  });
});
