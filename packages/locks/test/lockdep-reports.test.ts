import { describe, expect, it } from 'vitest';
import { type LockClassDesc, LockClassDescs, type LockdepMap } from '../src/lockdep/index.js';
import { FakeMachine } from './fixtures/fake-host.js';

// The kernel's exact report texts: header block, body, held-lock lines.

function machine(opts: ConstructorParameters<typeof FakeMachine>[0] = {}) {
  const m = new FakeMachine(opts);
  m.switchTo(m.addTask(42, 'kworker/0:1'));
  return m;
}

function lock(
  m: FakeMachine,
  name: string,
  desc: LockClassDesc = LockClassDescs.spinlock,
  addr = 0x1000,
): LockdepMap {
  return m.ld.initMap(m.ld.registerClass(name, desc), addr);
}

const TRACE = [
  'stack backtrace:',
  'CPU: 0 UID: 0 PID: 42 Comm: kworker/0:1 Not tainted 6.18.0-sim #1',
  'Call Trace:',
];

describe('BUG: Invalid wait context (the seed case)', () => {
  it('spin_lock() under raw_spin_lock() in task context reports context-{5:5} and {3:3}', () => {
    const m = machine();
    const raw = lock(m, '&krcp->lock', LockClassDescs.rawSpinlock, 0x12340);
    const zone = lock(m, '&zone->lock', LockClassDescs.spinlock, 0x56780);
    m.call('kvfree_call_rcu+0x9c/0x340', () => m.ld.lockAcquire(raw));
    m.call('rmqueue_bulk+0x4d/0x5e0', () => m.ld.lockAcquire(zone));
    expect(m.reports).toHaveLength(1);
    expect(m.reports[0]?.kind).toBe('lockdep-invalid-wait-context');
    expect(m.reports[0]?.lines).toEqual([
      '=============================',
      '[ BUG: Invalid wait context ]',
      '6.18.0-sim #1 Not tainted',
      '-----------------------------',
      'kworker/0:1/42 is trying to lock:',
      'ffff888000056780 (&zone->lock){....}-{3:3}, at: rmqueue_bulk+0x4d/0x5e0',
      'other info that might help us debug this:',
      'context-{5:5}',
      '1 lock held by kworker/0:1/42:',
      ' #0: ffff888000012340 (&krcp->lock){+.+.}-{2:2}, at: kvfree_call_rcu+0x9c/0x340',
      ...TRACE,
      ' <TASK>',
      ' rmqueue_bulk+0x4d/0x5e0',
      ' </TASK>',
    ]);
    expect(m.reports[0]?.details).toMatchObject({
      context: 5,
      allowed: 2,
      outer: 3,
      inner: 3,
      lock: { class: '&zone->lock', wait: [3, 3] },
    });
    expect(m.ld.debugLocks).toBe(false);
  });

  it('the same with spin_trylock() does not report', () => {
    const m = machine();
    const raw = lock(m, '&krcp->lock', LockClassDescs.rawSpinlock, 0x12340);
    const zone = lock(m, '&zone->lock', LockClassDescs.spinlock, 0x56780);
    m.ld.lockAcquire(raw);
    m.ld.lockAcquire(zone, { trylock: true });
    m.ld.lockRelease(zone);
    m.ld.lockRelease(raw);
    expect(m.reports).toEqual([]);
    expect(m.ld.debugLocks).toBe(true);
  });

  it('without PROVE_RAW_LOCK_NESTING spinlock_t is {2:2} and nests under raw_spinlock_t', () => {
    const m = machine({ proveRawLockNesting: false });
    const raw = lock(m, 'raw', LockClassDescs.rawSpinlock, 0x100);
    const spin = lock(m, 'spin', LockClassDescs.spinlock, 0x200);
    const mutex = lock(m, 'mutex', LockClassDescs.mutex, 0x300);
    m.ld.lockAcquire(raw);
    m.ld.lockAcquire(spin);
    expect(m.reports).toEqual([]);
    expect(m.ld.heldLocks()[1]).toContain('(spin){+.+.}-{2:2}');
    m.ld.lockAcquire(mutex);
    expect(m.reports[0]?.lines).toContain('context-{4:4}');
    expect(m.reports[0]?.lines[5]).toContain('(mutex){....}-{3:3}');
  });
});

describe('report texts', () => {
  it('possible recursive locking detected', () => {
    const m = machine();
    const cls = m.ld.registerClass('&sb->s_umount', LockClassDescs.rwsem);
    const a = m.ld.initMap(cls, 0x1000);
    const b = m.ld.initMap(cls, 0x2000);
    m.call('deactivate_super+0x2e/0x60', () => m.ld.lockAcquire(a));
    m.call('down_write+0x3a/0x50', () => m.ld.lockAcquire(b));
    expect(m.reports[0]?.lines).toEqual([
      '============================================',
      'WARNING: possible recursive locking detected',
      '6.18.0-sim #1 Not tainted',
      '--------------------------------------------',
      'kworker/0:1/42 is trying to acquire lock:',
      'ffff888000002000 (&sb->s_umount){+.+.}-{4:4}, at: down_write+0x3a/0x50',
      '',
      'but task is already holding lock:',
      'ffff888000001000 (&sb->s_umount){+.+.}-{4:4}, at: deactivate_super+0x2e/0x60',
      '',
      'other info that might help us debug this:',
      ' Possible unsafe locking scenario:',
      '',
      '       CPU0',
      '       ----',
      '  lock(&sb->s_umount);',
      '  lock(&sb->s_umount);',
      '',
      ' *** DEADLOCK ***',
      '',
      ' May be due to missing lock nesting notation',
      '',
      '1 lock held by kworker/0:1/42:',
      ' #0: ffff888000001000 (&sb->s_umount){+.+.}-{4:4}, at: deactivate_super+0x2e/0x60',
      '',
      ...TRACE,
      ' <TASK>',
      ' down_write+0x3a/0x50',
      ' </TASK>',
    ]);
  });

  it('possible circular locking dependency detected, with -> #N entries and the CPU0/CPU1 table', () => {
    const m = machine();
    const a = lock(m, '&mm->mmap_lock', LockClassDescs.rwsem, 0x1000);
    const b = lock(m, '&inode->i_rwsem', LockClassDescs.rwsem, 0x2000);
    m.call('vfs_write+0x10/0x100', () => {
      m.ld.lockAcquire(b);
      m.call('lock_mm_and_find_vma+0x20/0x80', () => m.ld.lockAcquire(a));
      m.ld.lockRelease(a);
      m.ld.lockRelease(b);
    });
    m.call('do_mmap+0x30/0x200', () => {
      m.ld.lockAcquire(a);
      m.call('inode_lock+0x11/0x40', () => m.ld.lockAcquire(b));
    });
    expect(m.reports[0]?.kind).toBe('lockdep-circular');
    expect(m.reports[0]?.lines).toEqual([
      '======================================================',
      'WARNING: possible circular locking dependency detected',
      '6.18.0-sim #1 Not tainted',
      '------------------------------------------------------',
      'kworker/0:1/42 is trying to acquire lock:',
      'ffff888000002000 (&inode->i_rwsem){+.+.}-{4:4}, at: inode_lock+0x11/0x40',
      '',
      'but task is already holding lock:',
      'ffff888000001000 (&mm->mmap_lock){+.+.}-{4:4}, at: do_mmap+0x30/0x200',
      '',
      'which lock already depends on the new lock.',
      '',
      '',
      'the existing dependency chain (in reverse order) is:',
      '',
      '-> #1 (&mm->mmap_lock){+.+.}-{4:4}:',
      '       lock_mm_and_find_vma+0x20/0x80',
      '       vfs_write+0x10/0x100',
      '',
      '-> #0 (&inode->i_rwsem){+.+.}-{4:4}:',
      '       inode_lock+0x11/0x40',
      '       do_mmap+0x30/0x200',
      '',
      'other info that might help us debug this:',
      '',
      ' Possible unsafe locking scenario:',
      '',
      '       CPU0                    CPU1',
      '       ----                    ----',
      '  lock(&mm->mmap_lock);',
      '                               lock(&inode->i_rwsem);',
      '                               lock(&mm->mmap_lock);',
      '  lock(&inode->i_rwsem);',
      '',
      ' *** DEADLOCK ***',
      '',
      '1 lock held by kworker/0:1/42:',
      ' #0: ffff888000001000 (&mm->mmap_lock){+.+.}-{4:4}, at: do_mmap+0x30/0x200',
      '',
      ...TRACE,
      ' <TASK>',
      ' inode_lock+0x11/0x40',
      ' do_mmap+0x30/0x200',
      ' </TASK>',
    ]);
  });

  it('inconsistent lock state: {IN-HARDIRQ-W} -> {HARDIRQ-ON-W}', () => {
    const m = machine();
    const l = lock(m, '&port->lock', LockClassDescs.spinlock, 0x4000);
    m.hardirqEnter({ threaded: true });
    m.call('serial8250_handle_irq+0x20/0x100', () => m.ld.lockAcquire(l));
    m.ld.lockRelease(l);
    m.hardirqExit();
    m.call('uart_write+0x40/0x90', () => m.ld.lockAcquire(l));
    expect(m.reports[0]?.lines).toEqual([
      '================================',
      'WARNING: inconsistent lock state',
      '6.18.0-sim #1 Not tainted',
      '--------------------------------',
      'inconsistent {IN-HARDIRQ-W} -> {HARDIRQ-ON-W} usage.',
      'kworker/0:1/42 [HC0[0]:SC0[0]:HE1:SE1] takes:',
      // The new bit is set before validation, so the class shows both ('?').
      'ffff888000004000 (&port->lock){?...}-{3:3}, at: uart_write+0x40/0x90',
      '{IN-HARDIRQ-W} state was registered at:',
      '  serial8250_handle_irq+0x20/0x100',
      'irq event stamp: 2',
      'hardirqs last  enabled at (2): [<ffffffff81627520>] selftest+0x0/0x10',
      'hardirqs last disabled at (1): [<ffffffff81627520>] selftest+0x0/0x10',
      'softirqs last  enabled at (0): [<0000000000000000>] 0x0',
      'softirqs last disabled at (0): [<0000000000000000>] 0x0',
      '',
      'other info that might help us debug this:',
      ' Possible unsafe locking scenario:',
      '',
      '       CPU0',
      '       ----',
      '  lock(&port->lock);',
      '  <Interrupt>',
      '    lock(&port->lock);',
      '',
      ' *** DEADLOCK ***',
      '',
      'no locks held by kworker/0:1/42.',
      '',
      ...TRACE,
      ' <TASK>',
      ' uart_write+0x40/0x90',
      ' </TASK>',
    ]);
    expect(m.reports[0]?.details).toMatchObject({ from: 'IN-HARDIRQ-W', to: 'HARDIRQ-ON-W' });
  });

  it('bad unlock balance detected', () => {
    const m = machine();
    const l = lock(m, '&dev->mutex', LockClassDescs.mutex, 0x8000);
    m.call('device_del+0x50/0x300', () => m.ld.lockRelease(l));
    expect(m.reports[0]?.lines).toEqual([
      '=====================================',
      'WARNING: bad unlock balance detected!',
      '6.18.0-sim #1 Not tainted',
      '-------------------------------------',
      'kworker/0:1/42 is trying to release lock (&dev->mutex) at:',
      `[<${(m.reports[0]?.lines[5] ?? '').slice(2, 18)}>] device_del+0x50/0x300`,
      'but there are no more locks to release!',
      '',
      'other info that might help us debug this:',
      'no locks held by kworker/0:1/42.',
      '',
      ...TRACE,
      ' <TASK>',
      ' device_del+0x50/0x300',
      ' </TASK>',
    ]);
    expect(m.reports[0]?.lines[5]).toMatch(/^\[<ffffffff81[0-9a-f]{6}>\] device_del\+0x50\/0x300$/);
  });

  it('held lock freed', () => {
    const m = machine();
    const l = lock(m, '&obj->lock', LockClassDescs.spinlock, 0x10040);
    m.call('obj_destroy+0x12/0x30', () => m.ld.lockAcquire(l));
    m.call('kfree+0x1c/0x200', () => m.ld.debugCheckNoLocksFreed(0x10000, 0x80));
    expect(m.reports[0]?.lines).toEqual([
      '=========================',
      'WARNING: held lock freed!',
      '6.18.0-sim #1 Not tainted',
      '-------------------------',
      'kworker/0:1/42 is freeing memory ffff888000010000-ffff88800001007f, with a lock still held there!',
      'ffff888000010040 (&obj->lock){+.+.}-{3:3}, at: obj_destroy+0x12/0x30',
      '1 lock held by kworker/0:1/42:',
      ' #0: ffff888000010040 (&obj->lock){+.+.}-{3:3}, at: obj_destroy+0x12/0x30',
      '',
      ...TRACE,
      ' <TASK>',
      ' kfree+0x1c/0x200',
      ' </TASK>',
    ]);
  });

  it('freeing memory next to a held lock is fine', () => {
    const m = machine();
    const l = lock(m, '&obj->lock', LockClassDescs.spinlock, 0x10040);
    m.ld.lockAcquire(l);
    m.ld.debugCheckNoLocksFreed(0x10000, 0x40);
    m.ld.debugCheckNoLocksFreed(0x10040 + 40, 0x40);
    expect(m.reports).toEqual([]);
  });

  it('BUG: MAX_LOCK_DEPTH too low! at 48 held locks', () => {
    const m = machine({ keepGoing: true });
    const cls = m.ld.registerClass('&x->lock', LockClassDescs.spinlock);
    // Trylocks of one class: no recursion report, just depth.
    for (let i = 0; i < 48; i++) {
      m.ld.lockAcquire(m.ld.initMap(cls, 0x1000 + i * 0x40), { trylock: true });
    }
    expect(m.kinds()).toEqual(['lockdep-max-depth']);
    const lines = m.reports[0]?.lines ?? [];
    expect(lines.slice(0, 4)).toEqual([
      'BUG: MAX_LOCK_DEPTH too low!',
      'turning off the locking correctness validator.',
      'depth: 48  max: 48!',
      '48 locks held by kworker/0:1/42:',
    ]);
    expect(lines[51]).toMatch(/^ #47: ffff888000001bc0 \(&x->lock\)\{\+\.\+\.\}-\{3:3\}, at: /);
    // Capacity limits turn lockdep off even with keepGoing.
    expect(m.ld.debugLocks).toBe(false);
  });

  it('suspicious RCU usage: once per call site, lockdep stays on', () => {
    const m = machine();
    const l = lock(m, '&p->pi_lock', LockClassDescs.rawSpinlock, 0x3000);
    m.ld.lockAcquire(l);
    m.call('rcu_dereference_check+0x0/0x10', () =>
      m.ld.lockdepRcuSuspicious(
        'kernel/sched/core.c',
        2176,
        'suspicious rcu_dereference_check() usage',
      ),
    );
    m.ld.lockdepRcuSuspicious(
      'kernel/sched/core.c',
      2176,
      'suspicious rcu_dereference_check() usage',
    );
    expect(m.reports).toHaveLength(1);
    expect(m.reports[0]?.lines).toEqual([
      '=============================',
      'WARNING: suspicious RCU usage',
      '6.18.0-sim #1 Not tainted',
      '-----------------------------',
      'kernel/sched/core.c:2176 suspicious rcu_dereference_check() usage!',
      '',
      'other info that might help us debug this:',
      '',
      '',
      'rcu_scheduler_active = 2, debug_locks = 1',
      '1 lock held by kworker/0:1/42:',
      ` #0: ffff888000003000 (&p->pi_lock){+.+.}-{2:2}, at: selftest+0x0/0x10`,
      '',
      ...TRACE,
      ' <TASK>',
      ' rcu_dereference_check+0x0/0x10',
      ' </TASK>',
    ]);
    expect(m.ld.debugLocks).toBe(true);
  });

  it('every report starts with the header block; separators as in the kernel', () => {
    const widths: Record<string, number> = {
      'lockdep-circular': 54,
      'lockdep-recursive': 44,
      'lockdep-inconsistent': 32,
      'lockdep-invalid-wait-context': 29,
      'lockdep-bad-unlock': 37,
      'lockdep-held-lock-freed': 25,
      'lockdep-rcu-suspicious': 29,
      'lockdep-irq-unsafe': 53,
      'lockdep-irq-inversion': 56,
    };
    const m = machine({ keepGoing: true });
    const a = lock(m, 'A', LockClassDescs.spinlock, 0x100);
    const b = lock(m, 'B', LockClassDescs.spinlock, 0x200);
    const c = lock(m, 'C', LockClassDescs.spinlock, 0x300);
    const d = lock(m, 'D', LockClassDescs.spinlock, 0x400);
    const mu = lock(m, 'M', LockClassDescs.mutex, 0x500);
    const ld = m.ld;
    // circular + recursive
    ld.lockAcquire(a);
    ld.lockAcquire(b);
    ld.lockRelease(b);
    ld.lockRelease(a);
    ld.lockAcquire(b);
    ld.lockAcquire(a);
    ld.lockRelease(a);
    ld.lockRelease(b);
    ld.lockAcquire(c);
    ld.lockAcquire(c, { subclass: 0 });
    ld.lockRelease(c);
    ld.lockRelease(c);
    // inconsistent: D used in hardirq, then with irqs on
    m.hardirqEnter();
    ld.lockAcquire(d);
    ld.lockRelease(d);
    m.hardirqExit();
    ld.lockAcquire(d);
    ld.lockRelease(d);
    // hardirq-safe A (via irq) -> ...: make A irq-safe, then take unsafe B under it
    m.hardirqEnter({ threaded: true });
    ld.lockAcquire(a);
    ld.lockRelease(a);
    m.hardirqExit();
    m.irqDisable();
    ld.lockAcquire(a);
    ld.lockAcquire(c);
    ld.lockRelease(c);
    ld.lockRelease(a);
    m.irqEnable();
    // invalid wait context, bad unlock, freed, rcu
    ld.lockAcquire(a);
    ld.lockAcquire(mu);
    ld.lockRelease(mu);
    ld.lockRelease(a);
    ld.lockRelease(mu);
    ld.lockAcquire(b);
    ld.debugCheckNoLocksFreed(0x200, 8);
    ld.lockRelease(b);
    ld.lockdepRcuSuspicious('f.c', 1, 'x');
    const seen = new Set<string>();
    for (const r of m.reports) {
      const w = widths[r.kind];
      if (w === undefined) continue;
      seen.add(r.kind);
      expect(r.lines[0], r.kind).toBe('='.repeat(w));
      expect(r.lines[2], r.kind).toBe('6.18.0-sim #1 Not tainted');
      expect(r.lines[3], r.kind).toBe('-'.repeat(w));
    }
    for (const k of Object.keys(widths)) {
      if (k !== 'lockdep-irq-inversion') expect(seen.has(k), k).toBe(true);
    }
  });

  it('held-lock lines: " #N: <addr> (<class>){<usage>}-{<outer>:<inner>}, at: <site>"', () => {
    const m = machine();
    const r = lock(m, 'rcu_node_0', LockClassDescs.rawSpinlock, 0x123456789);
    m.call('rcu_gp_init+0x1/0x2', () => m.ld.rcuLockAcquire(m.ld.rcuLockMap));
    m.call('rcu_report_qs_rnp+0x3/0x4', () => m.ld.lockAcquire(r));
    expect(m.ld.heldLocks()).toEqual([
      ' #0: ffffffff8e1a0de0 (rcu_read_lock){....}-{1:3}, at: rcu_gp_init+0x1/0x2',
      ' #1: ffff888123456789 (rcu_node_0){+.+.}-{2:2}, at: rcu_report_qs_rnp+0x3/0x4',
    ]);
    expect(m.ld.showHeldLocks()[0]).toBe('2 locks held by kworker/0:1/42:');
    expect(m.ld.heldLockDetails()[1]).toEqual({
      class: 'rcu_node_0',
      instance: 'rcu_node_0',
      addr: 'ffff888123456789',
      usage: '+.+.',
      wait: [2, 2],
      site: 'rcu_report_qs_rnp+0x3/0x4',
      read: 0,
      trylock: false,
    });
  });
});

describe('debug_locks', () => {
  it('turns off after the first report: later bugs print nothing', () => {
    const m = machine();
    const a = lock(m, 'A', LockClassDescs.spinlock, 0x100);
    const b = lock(m, 'B', LockClassDescs.spinlock, 0x200);
    const mu = lock(m, 'M', LockClassDescs.mutex, 0x300);
    m.ld.lockRelease(a); // bad unlock
    m.ld.lockAcquire(a);
    m.ld.lockAcquire(mu); // invalid wait context, silent now
    m.ld.lockAcquire(a); // recursive, silent
    m.ld.lockRelease(b); // bad unlock, silent
    expect(m.kinds()).toEqual(['lockdep-bad-unlock']);
    expect(m.ld.debugLocks).toBe(false);
    expect(m.ld.showHeldLocks()).toEqual(['INFO: lockdep is turned off.']);
    expect(m.ld.lockIsHeldType(a)).toBe(-1);
    expect(m.ld.lockIsHeld(b)).toBe(true);
    m.ld.lockdepRcuSuspicious('a.c', 1, 'silent');
    expect(m.reports).toHaveLength(1);
  });

  it('keepGoing keeps reporting, each chain once', () => {
    const m = machine({ keepGoing: true });
    const a = lock(m, 'A', LockClassDescs.spinlock, 0x100);
    const b = lock(m, 'B', LockClassDescs.spinlock, 0x200);
    const mu = lock(m, 'M', LockClassDescs.mutex, 0x300);
    const ld = m.ld;
    for (let i = 0; i < 3; i++) {
      ld.lockAcquire(a);
      ld.lockAcquire(b);
      ld.lockRelease(b);
      ld.lockRelease(a);
      ld.lockAcquire(b);
      ld.lockAcquire(a);
      ld.lockRelease(a);
      ld.lockRelease(b);
      ld.lockAcquire(a);
      ld.lockAcquire(mu);
      ld.lockRelease(mu);
      ld.lockRelease(a);
    }
    ld.lockRelease(a);
    expect(m.kinds()).toEqual([
      'lockdep-circular',
      'lockdep-invalid-wait-context',
      'lockdep-bad-unlock',
    ]);
    expect(ld.debugLocks).toBe(true);
    expect(ld.depth()).toBe(0);
  });

  it('enabled: false tracks nothing and reports nothing', () => {
    const m = machine({ enabled: false });
    const a = lock(m, 'A', LockClassDescs.spinlock, 0x100);
    m.ld.lockRelease(a);
    m.ld.lockAcquire(a);
    m.ld.lockAcquire(a);
    m.ld.hardirqsOn();
    m.ld.fsReclaimAcquire(0xcc0);
    expect(m.reports).toEqual([]);
    expect(m.ld.depth()).toBe(0);
    expect(m.ld.stats().chains).toBe(0);
  });
});
