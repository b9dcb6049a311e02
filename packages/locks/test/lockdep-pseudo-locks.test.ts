import {
  __GFP_NOLOCKDEP,
  GFP_ATOMIC,
  GFP_KERNEL,
  GFP_NOFS,
  GFP_NOIO,
  GFP_NOWAIT,
  PF_MEMALLOC,
  PF_MEMALLOC_NOFS,
  PF_MEMALLOC_NOIO,
} from '@sim/gfp';
import { describe, expect, it } from 'vitest';
import { fsReclaimTracked, LockClassDescs, LockdepReportKind } from '../src/lockdep/index.js';
import { FakeMachine } from './fixtures/fake-host.js';

describe('fs_reclaim (mm/page_alloc.c __need_reclaim())', () => {
  it('only allocations that may enter FS reclaim take the map', () => {
    expect(fsReclaimTracked(GFP_KERNEL, 0)).toBe(true);
    expect(fsReclaimTracked(GFP_NOFS, 0)).toBe(false);
    expect(fsReclaimTracked(GFP_NOIO, 0)).toBe(false);
    expect(fsReclaimTracked(GFP_ATOMIC, 0)).toBe(false);
    expect(fsReclaimTracked(GFP_NOWAIT, 0)).toBe(false);
    expect(fsReclaimTracked(GFP_KERNEL | __GFP_NOLOCKDEP, 0)).toBe(false);
    expect(fsReclaimTracked(GFP_KERNEL, PF_MEMALLOC)).toBe(false);
    expect(fsReclaimTracked(GFP_KERNEL, PF_MEMALLOC_NOFS)).toBe(false);
    expect(fsReclaimTracked(GFP_KERNEL, PF_MEMALLOC_NOIO)).toBe(false);
  });

  it('a __GFP_FS allocation inside reclaim reports; GFP_NOFS does not', () => {
    const ok = new FakeMachine();
    ok.ld.fsReclaimAcquire(GFP_KERNEL);
    ok.ld.fsReclaimMightAlloc(GFP_NOFS);
    ok.ld.fsReclaimRelease(GFP_KERNEL);
    expect(ok.reports).toEqual([]);

    const bad = new FakeMachine();
    bad.ld.fsReclaimAcquire(GFP_KERNEL);
    bad.call('kmalloc_trace+0x2a/0x90', () => bad.ld.fsReclaimMightAlloc(GFP_KERNEL));
    expect(bad.kinds()).toEqual([LockdepReportKind.RECURSIVE]);
    expect(bad.reports[0]?.lines[5]).toBe(
      'ffffffff8e2c7fa0 (fs_reclaim){+.+.}-{0:0}, at: kmalloc_trace+0x2a/0x90',
    );
  });

  it('a lock taken in reclaim and held around GFP_KERNEL allocation is a circular dependency', () => {
    const m = new FakeMachine();
    const ld = m.ld;
    const lock = ld.initMap(ld.registerClass('&sbi->s_lock', LockClassDescs.mutex), 0x7000);
    const kswapd = m.addTask(80, 'kswapd0');
    const writer = m.addTask(81, 'fsstress');
    m.switchTo(kswapd);
    m.call('balance_pgdat+0x10/0x400', () => ld.fsReclaimAcquire(GFP_KERNEL));
    m.call('super_cache_scan+0x40/0x200', () => ld.lockAcquire(lock));
    ld.lockRelease(lock);
    ld.fsReclaimRelease(GFP_KERNEL);
    m.switchTo(writer);
    m.call('fs_write_begin+0x22/0x80', () => ld.lockAcquire(lock));
    m.call('__kmalloc+0x31/0x300', () => ld.fsReclaimMightAlloc(GFP_KERNEL));
    expect(m.kinds()).toEqual([LockdepReportKind.CIRCULAR]);
    const lines = m.reports[0]?.lines ?? [];
    expect(lines[4]).toBe('fsstress/81 is trying to acquire lock:');
    expect(lines[5]).toBe('ffffffff8e2c7fa0 (fs_reclaim){+.+.}-{0:0}, at: __kmalloc+0x31/0x300');
    expect(lines).toContain('-> #1 (&sbi->s_lock){+.+.}-{4:4}:');
    expect(lines).toContain('  lock(&sbi->s_lock);');
    expect(lines).toContain('  lock(fs_reclaim);');
  });

  it('PF_MEMALLOC (already reclaiming) does not take the map again', () => {
    const m = new FakeMachine();
    m.ld.fsReclaimAcquire(GFP_KERNEL);
    m.ld.fsReclaimMightAlloc(GFP_KERNEL, PF_MEMALLOC);
    m.ld.fsReclaimRelease(GFP_KERNEL);
    expect(m.reports).toEqual([]);
    expect(m.ld.depth()).toBe(0);
  });
});

describe('RCU read-side maps', () => {
  it('carry the kernel names and wait types and nest freely', () => {
    const m = new FakeMachine();
    const ld = m.ld;
    ld.rcuLockAcquire(ld.rcuLockMap);
    ld.rcuLockAcquire(ld.rcuLockMap);
    ld.rcuLockAcquire(ld.rcuBhLockMap);
    ld.rcuLockAcquire(ld.rcuSchedLockMap);
    expect(m.reports).toEqual([]);
    expect(ld.heldLocks().map((l) => l.slice(22, l.indexOf(', at:')))).toEqual([
      '(rcu_read_lock){....}-{1:3}',
      '(rcu_read_lock){....}-{1:3}',
      '(rcu_read_lock_bh){....}-{1:3}',
      '(rcu_read_lock_sched){....}-{1:2}',
    ]);
    expect(ld.stats().dependencies).toBe(0);
    for (const map of [ld.rcuSchedLockMap, ld.rcuBhLockMap, ld.rcuLockMap, ld.rcuLockMap]) {
      ld.rcuLockRelease(map);
    }
    expect(ld.depth()).toBe(0);
    expect(ld.lockIsHeld(ld.rcuLockMap)).toBe(false);
  });

  it('mutex_lock() inside rcu_read_lock() is an invalid wait context (4 > 3)', () => {
    const m = new FakeMachine();
    const mu = m.ld.initMap(m.ld.registerClass('&dev->mutex', LockClassDescs.mutex), 0x100);
    m.ld.rcuLockAcquire(m.ld.rcuLockMap);
    m.ld.lockAcquire(mu);
    expect(m.kinds()).toEqual([LockdepReportKind.INVALID_WAIT_CONTEXT]);
    expect(m.reports[0]?.details).toMatchObject({ context: 5, allowed: 3, outer: 4 });
  });
});
