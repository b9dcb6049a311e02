import { describe, expect, it } from 'vitest';
import {
  IrqContext,
  type LockClassDesc,
  LockClassDescs,
  LockdepError,
  LockdepMap,
  LockdepReportKind,
  LockType,
  MAX_LOCK_DEPTH,
  WaitType,
} from '../src/lockdep/index.js';
import { FakeMachine } from './fixtures/fake-host.js';

function setup(opts: ConstructorParameters<typeof FakeMachine>[0] = {}) {
  const m = new FakeMachine(opts);
  let addr = 0x10000;
  const mk = (name: string, desc: LockClassDesc = LockClassDescs.spinlock) => {
    addr += 0x40;
    return m.ld.initMap(m.ld.registerClass(name, desc), addr);
  };
  return { m, ld: m.ld, mk };
}

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof LockdepError) return e.code;
    throw e;
  }
  return 'none';
};

describe('bad input throws LockdepError before any state changes', () => {
  it('class descriptors', () => {
    const { ld } = setup();
    expect(code(() => ld.registerClass('', LockClassDescs.spinlock))).toBe('BAD_NAME');
    expect(code(() => ld.registerClass('x', { inner: 5 as 0 }))).toBe('BAD_WAIT_TYPE');
    expect(code(() => ld.registerClass('x', { inner: -1 as 0 }))).toBe('BAD_WAIT_TYPE');
    expect(code(() => ld.registerClass('x', { inner: 2, outer: 7 as 0 }))).toBe('BAD_WAIT_TYPE');
    expect(code(() => ld.registerClass('x', { inner: 2, lockType: 'odd' as 'normal' }))).toBe(
      'BAD_LOCK_TYPE',
    );
    ld.registerClass('y', LockClassDescs.spinlock);
    expect(code(() => ld.registerClass('y', LockClassDescs.mutex))).toBe('CLASS_MISMATCH');
    expect(() => ld.registerClass('x', { inner: 5 as 0 })).toThrow(
      /accepted: WaitType.INV..WaitType.SLEEP/,
    );
  });

  it('maps, acquisitions and options', () => {
    const { m, ld, mk } = setup();
    const cls = ld.registerClass('z', LockClassDescs.spinlock);
    expect(code(() => new LockdepMap(cls, 'z', -4))).toBe('BAD_ADDRESS');
    expect(code(() => new LockdepMap(cls, 'z', 2 ** 36))).toBe('BAD_ADDRESS');
    expect(code(() => new LockdepMap(cls, 'z', 1.5))).toBe('BAD_ADDRESS');
    expect(code(() => new LockdepMap(cls, 'z', 0x100, 0))).toBe('BAD_SIZE');
    expect(code(() => new LockdepMap(0, 'z', 0x100))).toBe('BAD_CLASS');
    expect(code(() => ld.initMap(999, 0x100))).toBe('BAD_CLASS');
    const a = mk('a');
    expect(code(() => ld.lockAcquire(a, { subclass: 8 }))).toBe('BAD_SUBCLASS');
    expect(code(() => ld.lockAcquire(a, { read: 3 as 0 }))).toBe('BAD_READ');
    expect(code(() => ld.acquire(new LockdepMap(900, 'q', 0x200), 0, false, 0, 1, null))).toBe(
      'BAD_CLASS',
    );
    expect(code(() => ld.fsReclaimAcquire(-1))).toBe('BAD_GFP');
    expect(code(() => ld.debugCheckNoLocksFreed(-8, 8))).toBe('BAD_ADDRESS');
    expect(code(() => new FakeMachine({ keepGoing: 'yes' as unknown as boolean }))).toBe(
      'BAD_OPTION',
    );
    expect(ld.depth()).toBe(0);
    expect(m.reports).toEqual([]);
  });
});

describe('lock classes', () => {
  it('same name + key is one class; another key is name#2; subclasses print name/N', () => {
    const { ld, m } = setup();
    const k1 = {};
    const k2 = {};
    const c1 = ld.registerClass('&n->list_lock', LockClassDescs.spinlock, k1);
    expect(ld.registerClass('&n->list_lock', LockClassDescs.spinlock, k1)).toBe(c1);
    const c2 = ld.registerClass('&n->list_lock', LockClassDescs.spinlock, k2);
    expect(c2).not.toBe(c1);
    expect(ld.className(c1)).toBe('&n->list_lock');
    expect(ld.className(c2)).toBe('&n->list_lock#2');
    const a = ld.initMap(c1, 0x100);
    const b = ld.initMap(c1, 0x200);
    ld.lockAcquire(a);
    ld.lockAcquire(b, { subclass: 1 }); // spin_lock_nested(): no recursion report
    expect(m.reports).toEqual([]);
    expect(ld.heldLocks()[1]).toContain('(&n->list_lock/1){+.+.}-{3:3}');
  });

  it('two instances of one class nested without annotation is recursive locking', () => {
    const { ld, m } = setup();
    const c = ld.registerClass('&q->lock', LockClassDescs.spinlock);
    ld.lockAcquire(ld.initMap(c, 0x100));
    ld.lockAcquire(ld.initMap(c, 0x200));
    expect(m.kinds()).toEqual([LockdepReportKind.RECURSIVE]);
  });

  it('ready-made descriptors print the kernel wait types', () => {
    const { ld, mk } = setup();
    const expectWait = (desc: (typeof LockClassDescs)[keyof typeof LockClassDescs], w: string) => {
      const map = mk(`c${w}${Math.random()}`, desc);
      ld.lockAcquire(map, { trylock: true });
      expect(ld.heldLocks().at(-1)).toContain(`}-${w}, at:`);
    };
    expectWait(LockClassDescs.rawSpinlock, '{2:2}');
    expectWait(LockClassDescs.spinlock, '{3:3}');
    expectWait(LockClassDescs.rwlock, '{3:3}');
    expectWait(LockClassDescs.localLock, '{3:3}');
    expectWait(LockClassDescs.mutex, '{4:4}');
    expectWait(LockClassDescs.rwsem, '{4:4}');
    expectWait(LockClassDescs.rcuReadLockSched, '{1:2}');
    expectWait(LockClassDescs.rcuReadLock, '{1:3}');
  });
});

describe('dependencies and chain caching', () => {
  it('a repeated held-lock sequence hits the chain cache and adds nothing', () => {
    const { ld, mk } = setup();
    const [a, b, c] = [mk('a'), mk('b'), mk('c')];
    const seq = () => {
      ld.lockAcquire(a);
      ld.lockAcquire(b);
      ld.lockAcquire(c);
      ld.lockRelease(c);
      ld.lockRelease(b);
      ld.lockRelease(a);
    };
    seq();
    const first = ld.stats();
    expect(first.dependencies).toBe(2);
    expect(first.chains).toBe(3);
    for (let i = 0; i < 100; i++) seq();
    const later = ld.stats();
    expect(later.dependencies).toBe(2);
    expect(later.chains).toBe(3);
    expect(later.chainHits - first.chainHits).toBe(300);
    expect(later.maxDepth).toBe(3);
  });

  it('a trylock adds no edge to itself but a held trylock is the source of later edges', () => {
    const { ld, m, mk } = setup();
    const [a, b] = [mk('a'), mk('b')];
    ld.lockAcquire(b);
    ld.lockAcquire(a, { trylock: true }); // B -> A not recorded
    ld.lockRelease(a);
    ld.lockRelease(b);
    expect(ld.stats().dependencies).toBe(0);
    ld.lockAcquire(a, { trylock: true });
    ld.lockAcquire(b); // A -> B recorded from the trylocked A
    ld.lockRelease(b);
    ld.lockRelease(a);
    expect(ld.stats().dependencies).toBe(1);
    expect(m.reports).toEqual([]);
    ld.lockAcquire(b);
    ld.lockAcquire(a); // B -> A closes the cycle
    expect(m.kinds()).toEqual([LockdepReportKind.CIRCULAR]);
  });

  it('check == 0 acquisitions are tracked but add no dependency', () => {
    const { ld, mk } = setup();
    const [a, b] = [mk('a'), mk('b')];
    ld.lockAcquire(a, { check: 0 });
    ld.lockAcquire(b, { check: 0 });
    expect(ld.depth()).toBe(2);
    expect(ld.stats().dependencies).toBe(0);
  });

  it('releasing out of order re-acquires the locks above and keeps chain keys consistent', () => {
    const { ld, m, mk } = setup();
    const [a, b, c] = [mk('a'), mk('b'), mk('c')];
    ld.lockAcquire(a);
    ld.lockAcquire(b);
    ld.lockAcquire(c);
    ld.lockRelease(b);
    expect(ld.heldLocks().map((l) => l.slice(0, 4))).toEqual([' #0:', ' #1:']);
    expect(ld.heldLocks()[1]).toContain('(c)');
    ld.lockRelease(c);
    ld.lockRelease(a);
    expect(ld.depth()).toBe(0);
    const hits = ld.stats().chainHits;
    ld.lockAcquire(a);
    ld.lockAcquire(c); // chain [a, c] was validated by the re-acquire
    expect(ld.stats().chainHits).toBe(hits + 2);
    expect(m.reports).toEqual([]);
  });

  it('recursive readers may nest; non-recursive readers may not', () => {
    const { ld, m, mk } = setup({ keepGoing: true });
    const rw = mk('&rw', LockClassDescs.rwlock);
    ld.lockAcquire(rw, { read: 2 });
    ld.lockAcquire(rw, { read: 2 });
    expect(m.reports).toEqual([]);
    ld.lockRelease(rw);
    ld.lockRelease(rw);
    ld.lockAcquire(rw, { read: 1 });
    ld.lockAcquire(rw, { read: 1 });
    expect(m.kinds()).toEqual([LockdepReportKind.RECURSIVE]);
  });

  it('nest_lock serialises same-class nesting; a nest_lock not held is reported', () => {
    const { ld, m } = setup();
    const xc = ld.registerClass('&x', LockClassDescs.spinlock);
    const yc = ld.registerClass('&y', LockClassDescs.spinlock);
    const x = ld.initMap(xc, 0x100);
    const y1 = ld.initMap(yc, 0x200);
    const y2 = ld.initMap(yc, 0x300);
    const a = ld.initMap(ld.registerClass('a', LockClassDescs.spinlock), 0x400);
    ld.lockAcquire(x);
    ld.lockAcquire(y1, { nestLock: x });
    ld.lockAcquire(a);
    ld.lockAcquire(y2, { nestLock: x });
    ld.lockRelease(a);
    ld.lockRelease(y2);
    ld.lockRelease(y1);
    ld.lockRelease(x);
    expect(m.reports).toEqual([]);
    ld.lockAcquire(y1, { nestLock: x });
    expect(m.kinds()).toEqual([LockdepReportKind.NESTED_LOCK_NOT_TAKEN]);
  });

  it('nest_lock merges a same-class acquisition into the held one', () => {
    const { ld, m } = setup();
    const x = ld.initMap(ld.registerClass('&x', LockClassDescs.mutex), 0x100);
    const yc = ld.registerClass('&y', LockClassDescs.mutex);
    const y1 = ld.initMap(yc, 0x200);
    const y2 = ld.initMap(yc, 0x300);
    ld.lockAcquire(x);
    ld.lockAcquire(y1, { nestLock: x });
    ld.lockAcquire(y2, { nestLock: x });
    expect(ld.depth()).toBe(2);
    ld.lockRelease(y2);
    expect(ld.depth()).toBe(2);
    ld.lockRelease(y1);
    ld.lockRelease(x);
    expect(ld.depth()).toBe(0);
    expect(m.reports).toEqual([]);
  });
});

describe('held-lock queries', () => {
  it('lockIsHeld, lockIsHeldType and lockdepAssertHeld', () => {
    const { ld, m, mk } = setup();
    const [a, rw] = [mk('a'), mk('rw', LockClassDescs.rwlock)];
    expect(ld.lockIsHeld(a)).toBe(false);
    ld.lockAcquire(a);
    ld.lockAcquire(rw, { read: 1 });
    expect(ld.lockIsHeld(a)).toBe(true);
    expect(ld.lockIsHeldType(rw, 1)).toBe(1);
    expect(ld.lockIsHeldType(rw, 0)).toBe(0);
    expect(ld.lockdepAssertHeld(a)).toBe(true);
    ld.lockRelease(a);
    m.call('zone_free+0x2/0x10', () => expect(ld.lockdepAssertHeld(a)).toBe(false));
    expect(m.reports[0]).toMatchObject({ kind: LockdepReportKind.ASSERT_HELD, taint: 'W' });
    expect(m.reports[0]?.lines.slice(0, 3)).toEqual([
      '------------[ cut here ]------------',
      'WARNING: CPU: 0 PID: 1 at zone_free+0x2/0x10',
      'Modules linked in:',
    ]);
    expect(ld.debugLocks).toBe(true);
  });

  it('held locks are per task', () => {
    const { ld, m, mk } = setup();
    const a = mk('a');
    const t2 = m.addTask(7, 'kswapd0');
    ld.lockAcquire(a);
    m.switchTo(t2);
    expect(ld.depth()).toBe(0);
    expect(ld.lockIsHeld(a)).toBe(false);
    ld.debugCheckNoLocksHeld();
    expect(m.reports).toEqual([]);
  });

  it('a task exiting with locks held is reported', () => {
    const { ld, m, mk } = setup();
    ld.lockAcquire(mk('a'));
    ld.debugCheckNoLocksHeld();
    expect(m.reports[0]?.lines.slice(0, 4)).toEqual([
      '====================================',
      'WARNING: swapper/0/1 still has locks held!',
      '6.18.0-sim #1 Not tainted',
      '------------------------------------',
    ]);
  });
});

describe('irq state tracking', () => {
  it('enabling irqs with a lock held marks it HARDIRQ-ON (mark_held_locks)', () => {
    const { ld, m, mk } = setup();
    const a = mk('a');
    m.irqDisable();
    ld.lockAcquire(a);
    expect(ld.classUsage(a.classId)).toBe('....');
    m.irqEnable();
    expect(ld.classUsage(a.classId)).toBe('+.+.');
  });

  it('local_bh_enable() with a lock held marks it SOFTIRQ-ON', () => {
    const { ld, m, mk } = setup();
    const a = mk('a');
    m.bhDisable();
    ld.lockAcquire(a);
    expect(ld.classUsage(a.classId)).toBe('+...');
    m.bhEnable();
    expect(ld.classUsage(a.classId)).toBe('+.+.');
  });

  it('a hardirq that interrupted softirq processing marks IN-HARDIRQ and IN-SOFTIRQ', () => {
    const { ld, m, mk } = setup();
    const a = mk('a');
    const r = mk('r', LockClassDescs.rwlock);
    m.softirqEnter();
    m.hardirqEnter({ threaded: true });
    ld.lockAcquire(a);
    ld.lockAcquire(r, { read: 2 });
    ld.lockRelease(r);
    ld.lockRelease(a);
    m.hardirqExit();
    m.softirqExit();
    expect(ld.classUsage(a.classId)).toBe('-.-.');
    expect(ld.classUsage(r.classId)).toBe('.-.-');
  });

  it('a trylock in irq context sets no USED_IN bit', () => {
    const { ld, m, mk } = setup();
    const a = mk('a');
    m.hardirqEnter();
    ld.lockAcquire(a, { trylock: true });
    ld.lockRelease(a);
    m.hardirqExit();
    ld.lockAcquire(a);
    expect(ld.classUsage(a.classId)).toBe('+.+.');
    expect(m.reports).toEqual([]);
  });

  it('hardirq-safe lock taken with softirqs enabled in a softirq-safe chain', () => {
    const { ld, m, mk } = setup();
    const a = mk('a');
    const b = mk('b');
    m.softirqEnter();
    ld.lockAcquire(a);
    ld.lockRelease(a);
    m.softirqExit();
    ld.lockAcquire(b);
    ld.lockRelease(b);
    m.bhDisable();
    ld.lockAcquire(a);
    ld.lockAcquire(b);
    const r = m.reports[0];
    expect(r?.kind).toBe(LockdepReportKind.IRQ_UNSAFE);
    expect(r?.lines[1]).toBe('WARNING: SOFTIRQ-safe -> SOFTIRQ-unsafe lock order detected');
    expect(r?.lines[0]).toBe('='.repeat(53));
  });
});

describe('NMI', () => {
  it('lockdep does not track in NMI; taking a used class reports {INITIAL USE} -> {IN-NMI}', () => {
    const { ld, m, mk } = setup();
    const a = mk('&zone->lock');
    const fresh = mk('fresh');
    ld.lockAcquire(a);
    ld.lockRelease(a);
    m.nmiEnter();
    ld.lockAcquire(fresh);
    ld.lockAcquire(a, { trylock: true });
    expect(ld.depth()).toBe(0);
    expect(m.reports).toEqual([]);
    ld.lockAcquire(a);
    m.nmiExit();
    expect(m.kinds()).toEqual([LockdepReportKind.INCONSISTENT]);
    expect(m.reports[0]?.lines[4]).toBe('inconsistent {INITIAL USE} -> {IN-NMI} usage.');
    expect(m.reports[0]?.lines[5]).toBe('swapper/0/1 [HC1[1]:SC0[0]:HE1:SE1] takes:');
  });

  it('a read in NMI conflicts only with write use', () => {
    const { ld, m, mk } = setup();
    const r = mk('rw', LockClassDescs.rwlock);
    ld.lockAcquire(r, { read: 2 });
    ld.lockRelease(r);
    m.nmiEnter();
    ld.lockAcquire(r, { read: 2 });
    expect(m.reports).toEqual([]);
    ld.lockAcquire(r);
    expect(m.kinds()).toEqual([LockdepReportKind.INCONSISTENT]);
  });
});

describe('wait contexts', () => {
  it('task_wait_context(): task 5, softirq 3, threaded hardirq 3, hard hardirq 2', () => {
    const { ld, m } = setup();
    expect(ld.taskWaitContext()).toBe(WaitType.MAX);
    m.softirqEnter();
    expect(ld.taskWaitContext()).toBe(WaitType.CONFIG);
    m.softirqExit();
    m.hardirqEnter({ threaded: true });
    expect(ld.taskWaitContext()).toBe(WaitType.CONFIG);
    m.hardirqExit();
    m.hardirqEnter({ irqConfig: true });
    expect(ld.taskWaitContext()).toBe(WaitType.CONFIG);
    m.hardirqExit();
    m.hardirqEnter();
    expect(ld.taskWaitContext()).toBe(WaitType.SPIN);
    m.hardirqExit();
    const noRaw = setup({ proveRawLockNesting: false });
    expect(noRaw.ld.taskWaitContext()).toBe(4);
    noRaw.m.softirqEnter();
    expect(noRaw.ld.taskWaitContext()).toBe(2);
  });

  it('spin_lock in a HRTIMER_MODE_HARD callback reports context-{2:2}; threaded and softirq are fine', () => {
    const { ld, m, mk } = setup();
    const threadedLock = mk('&desc->lock');
    m.hardirqEnter({ threaded: true });
    ld.lockAcquire(threadedLock);
    ld.lockRelease(threadedLock);
    m.hardirqExit();
    const timerLock = mk('&timer->lock');
    m.softirqEnter();
    ld.lockAcquire(timerLock);
    ld.lockRelease(timerLock);
    m.softirqExit();
    expect(m.reports).toEqual([]);
    m.hardirqEnter();
    ld.lockAcquire(mk('&base->lock'));
    expect(m.reports[0]?.lines).toContain('context-{2:2}');
  });

  it('mutex under rcu_read_lock() reports; spinlock under rcu_read_lock() does not; under rcu_read_lock_sched() it does', () => {
    const a = setup();
    a.ld.rcuLockAcquire(a.ld.rcuLockMap);
    a.ld.lockAcquire(a.mk('spin'));
    expect(a.m.reports).toEqual([]);
    a.ld.lockAcquire(a.mk('mutex', LockClassDescs.mutex));
    expect(a.m.kinds()).toEqual([LockdepReportKind.INVALID_WAIT_CONTEXT]);
    expect(a.m.reports[0]?.lines).toContain(
      ' #0: ffffffff8e1a0de0 (rcu_read_lock){....}-{1:3}, at: selftest+0x0/0x10',
    );
    const b = setup();
    b.ld.rcuLockAcquire(b.ld.rcuSchedLockMap);
    b.ld.lockAcquire(b.mk('spin'));
    expect(b.m.kinds()).toEqual([LockdepReportKind.INVALID_WAIT_CONTEXT]);
  });

  it('only held locks of the current irq context count', () => {
    const { ld, m, mk } = setup();
    ld.lockAcquire(mk('raw', LockClassDescs.rawSpinlock));
    m.hardirqEnter({ threaded: true });
    ld.lockAcquire(mk('spin'));
    expect(m.reports).toEqual([]);
  });

  it('a wait-override map raises the level for the code it covers', () => {
    const { ld, m, mk } = setup();
    const ov = mk('fill_pool_map', {
      inner: WaitType.CONFIG,
      lockType: LockType.WAIT_OVERRIDE,
    });
    ld.lockAcquire(mk('raw', LockClassDescs.rawSpinlock));
    ld.lockAcquire(ov, { trylock: true });
    ld.lockAcquire(mk('spin'));
    expect(m.reports).toEqual([]);
    ld.lockAcquire(mk('mutex', LockClassDescs.mutex));
    expect(m.kinds()).toEqual([LockdepReportKind.INVALID_WAIT_CONTEXT]);
    expect(m.reports[0]?.details).toMatchObject({ context: 5, allowed: 3 });
  });

  it('read acquisitions and check == 0 acquisitions are checked too', () => {
    const a = setup();
    a.ld.lockAcquire(a.mk('raw', LockClassDescs.rawSpinlock));
    a.ld.lockAcquire(a.mk('rwsem', LockClassDescs.rwsem), { read: 1, check: 0 });
    expect(a.m.kinds()).toEqual([LockdepReportKind.INVALID_WAIT_CONTEXT]);
  });

  it('readLockIsRecursive(): interrupt context or BH-disabled or forced', () => {
    const { ld, m } = setup();
    expect(ld.readLockIsRecursive()).toBe(false);
    expect(ld.readLockIsRecursive(true)).toBe(true);
    m.bhDisable();
    expect(ld.readLockIsRecursive()).toBe(true);
    m.bhEnable();
    m.hardirqEnter();
    expect(ld.readLockIsRecursive()).toBe(true);
    expect(m.irqContext()).toBe(IrqContext.HARDIRQ);
  });
});

describe('limits', () => {
  it('MAX_LOCK_DEPTH is 48', () => {
    expect(MAX_LOCK_DEPTH).toBe(48);
  });
});
