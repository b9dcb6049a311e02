import { describe, expect, it } from 'vitest';
import { boot, kinds } from './fixtures/machine.js';

describe('struct mutex', () => {
  it('a second task sleeps until the owner unlocks, then owns it', () => {
    const { m, l } = boot('full');
    const mx = l.mutex('&dev->mutex');
    const order: string[] = [];
    m.spawn(
      function* () {
        yield* mx.lock();
        order.push('A locked');
        yield m.msleep(10);
        order.push('A unlocks');
        mx.unlock();
      },
      { comm: 'a', cpu: 0 },
    );
    m.spawn(
      function* () {
        yield m.msleep(1);
        yield* mx.lock();
        order.push('B locked');
        mx.unlock();
      },
      { comm: 'b', cpu: 1 },
    );
    m.runUntilIdle();
    expect(order).toEqual(['A locked', 'A unlocks', 'B locked']);
    expect(mx.isLocked()).toBe(false);
    const row = l.lockStat().find((r) => r.name === '&dev->mutex')!;
    expect(row.acquisitions).toBe(2);
    expect(row.contentions).toBe(1);
    expect(row.waitTimeTotal).toBeGreaterThan(8_000_000);
    expect(kinds(m)).toEqual([]);
  });

  it('mutex_lock() under rcu_read_lock() is an Invalid wait context (4 > 3)', () => {
    const { m, l } = boot('full');
    const mx = l.mutex('&m');
    m.spawn(
      function* () {
        l.lockdep.rcuLockAcquire(l.lockdep.rcuLockMap);
        yield* mx.lock();
        mx.unlock();
        l.lockdep.rcuLockRelease(l.lockdep.rcuLockMap);
      },
      { comm: 't', cpu: 0 },
    );
    m.runUntilIdle();
    expect(kinds(m)).toContain('lockdep-invalid-wait-context');
    expect(m.dmesg()).toMatch(/\(&m\)\{\+\.\+\.\}-\{4:4\}|\(&m\)\{\.\.\.\.\}-\{4:4\}/);
  });

  it('mutex_lock() under a spinlock sleeps in atomic context and is an Invalid wait context', () => {
    const { m, l } = boot('full');
    const s = l.spinLock('&s');
    const mx = l.mutex('&m');
    m.spawn(
      function* () {
        s.lock();
        yield* mx.lock();
        mx.unlock();
        s.unlock();
      },
      { comm: 't', cpu: 0 },
    );
    m.runUntilIdle();
    expect(kinds(m)).toEqual(['might-sleep', 'lockdep-invalid-wait-context']);
    expect(m.dmesg()).toContain('at kernel/locking/mutex.c');
  });

  it('mutex_trylock() fails while another task owns it', () => {
    const { m, l } = boot('full');
    const mx = l.mutex('&m');
    let got: boolean | undefined;
    m.spawn(
      function* () {
        yield* mx.lock();
        yield m.msleep(5);
        mx.unlock();
      },
      { comm: 'owner', cpu: 0 },
    );
    m.spawn(
      function* () {
        yield m.msleep(1);
        got = mx.trylock();
      },
      { comm: 'try', cpu: 1 },
    );
    m.runUntilIdle();
    expect(got).toBe(false);
  });

  it('unlock by a task that does not own it warns', () => {
    const { m, l } = boot('full', { locking: { lockdep: false } });
    const mx = l.mutex('&m');
    m.spawn(
      function* () {
        mx.unlock();
        yield m.msleep(1);
      },
      { comm: 't', cpu: 0 },
    );
    m.runUntilIdle();
    expect(kinds(m)).toEqual(['mutex-bad-unlock']);
  });
});
