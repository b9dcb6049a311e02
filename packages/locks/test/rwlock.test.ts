import { describe, expect, it } from 'vitest';
import { LocksError } from '../src/index.js';
import { boot, holdLock, kinds, reader } from './fixtures/machine.js';

describe('rwlock_t', () => {
  it('readers share it; a writer waits for the last reader in virtual time', () => {
    const { m, l } = boot('none');
    const rw = l.rwLock('&tasklist_lock');
    holdLock(m, 1, 20_000, 1_000, reader(rw));
    m.runOn(0, () => {
      rw.readLock();
      expect(rw.readerCount()).toBe(1);
      rw.readUnlock();
      rw.writeLock();
      expect(m.clockOf(0)).toBeGreaterThanOrEqual(21_000);
      rw.writeUnlock();
    });
    expect(kinds(m)).toEqual([]);
  });

  it('nested read locks on one CPU are fine; a write inside a read deadlocks', () => {
    const { m, l } = boot('none');
    const rw = l.rwLock('&rw');
    m.runOn(0, () => {
      rw.readLock();
      rw.readLock();
      rw.readUnlock();
      rw.readUnlock();
    });
    expect(() =>
      m.runOn(0, () => {
        rw.readLock();
        rw.writeLock();
      }),
    ).toThrow(LocksError);
    expect(kinds(m)).toContain('lockdep-recursive');
  });

  it('write_trylock() fails while a reader holds it; read_trylock() succeeds', () => {
    const { m, l } = boot('none');
    const rw = l.rwLock('&rw');
    m.runOn(0, () => {
      rw.readLock();
      expect(rw.writeTrylock()).toBe(false);
      expect(rw.readTrylock()).toBe(true);
      rw.readUnlock();
      rw.readUnlock();
      expect(rw.writeTrylock()).toBe(true);
      expect(rw.isWriteLocked()).toBe(true);
      rw.writeUnlock();
    });
  });

  it('irqsave and bh forms restore the context', () => {
    const { m, l } = boot('none');
    const rw = l.rwLock('&rw');
    m.runOn(0, () => {
      const f = rw.writeLockIrqsave();
      expect(m.irqsDisabled()).toBe(true);
      rw.writeUnlockIrqrestore(f);
      rw.readLockBh();
      expect(m.inSoftirq()).toBe(true);
      rw.readUnlockBh();
      expect(m.preemptCount()).toBe(0);
      expect(m.irqsDisabled()).toBe(false);
    });
  });

  it('on RT rwlock_t sleeps: read_lock() under a raw spinlock is a sleep in atomic context', () => {
    const { m, l } = boot('rt');
    const raw = l.rawSpinLock('&raw');
    const rw = l.rwLock('&rw');
    m.runOn(0, () => {
      raw.lock();
      rw.readLock();
      rw.readUnlock();
      raw.unlock();
    });
    expect(kinds(m)).toContain('might-sleep');
    expect(kinds(m)).toContain('lockdep-invalid-wait-context');
  });

  it('on RT write_lock() waiting for a reader under a raw spinlock blocks: scheduling while atomic', () => {
    // A reader on CPU 1 holds &rw until 21 us; CPU 0 asks to write at ~0 us.
    const writeUnderRaw = (model: 'full' | 'rt') => {
      const { m, l } = boot(model, { locking: { lockdep: false } });
      const raw = l.rawSpinLock('&raw');
      const rw = l.rwLock('&rw');
      holdLock(m, 1, 20_000, 1_000, reader(rw));
      m.runOn(0, () => {
        raw.lock();
        rw.writeLock();
        rw.writeUnlock();
        raw.unlock();
      });
      return m;
    };
    const rt = writeUnderRaw('rt');
    expect(kinds(rt)).toEqual(['might-sleep', 'scheduling-while-atomic']);
    expect(rt.dmesg()).toContain(' rwbase_write_lock\n');
    // Off RT the writer spins, which is allowed under a raw spinlock.
    expect(kinds(writeUnderRaw('full'))).toEqual([]);
  });
});
