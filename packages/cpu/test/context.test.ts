import { describe, expect, it } from 'vitest';
import {
  createMachine,
  IRQF_NO_THREAD,
  type Machine,
  MachineError,
  NET_RX_SOFTIRQ,
  PREEMPT_MODELS,
  type PreemptModel,
} from '../src/index.js';
import { type Ctx, snapshot, TASK_CTX } from './snapshot.js';

const NON_RT: PreemptModel[] = ['none', 'voluntary', 'full'];

describe('context predicates in task context', () => {
  for (const preempt of PREEMPT_MODELS) {
    it(`plain task context on preempt=${preempt}`, () => {
      const m = createMachine({ nrCpus: 2, preempt });
      expect(m.runOn(1, () => snapshot(m))).toEqual(TASK_CTX);
    });

    it(`preempt_disable() makes the task atomic on preempt=${preempt}`, () => {
      const m = createMachine({ preempt });
      const s = m.runOn(0, () => {
        m.preemptDisable();
        const inside = snapshot(m);
        m.preemptEnable();
        return { inside, after: snapshot(m) };
      });
      expect(s.inside).toEqual({ ...TASK_CTX, pc: 1, inAtomic: true, preemptible: false });
      expect(s.after).toEqual(TASK_CTX);
    });

    it(`local_irq_save() disables irqs but not preemption count on preempt=${preempt}`, () => {
      const m = createMachine({ preempt });
      const s = m.runOn(0, () => {
        const flags = m.localIrqSave();
        const inside = snapshot(m);
        m.localIrqRestore(flags);
        return { inside, after: snapshot(m) };
      });
      expect(s.inside).toEqual({ ...TASK_CTX, irqsDisabled: true, preemptible: false });
      expect(s.after).toEqual(TASK_CTX);
      expect(m.reports()).toEqual([]);
    });
  }

  for (const preempt of NON_RT) {
    it(`local_bh_disable() adds SOFTIRQ_DISABLE_OFFSET on preempt=${preempt}`, () => {
      const m = createMachine({ preempt });
      const s = m.runOn(0, () => {
        m.localBhDisable();
        const inside = snapshot(m);
        m.localBhEnable();
        return inside;
      });
      expect(s).toEqual({
        ...TASK_CTX,
        pc: 0x200,
        inSoftirq: true,
        inInterrupt: true,
        inAtomic: true,
        preemptible: false,
      });
    });
  }

  it('local_bh_disable() on PREEMPT_RT counts in the task and leaves preempt_count alone', () => {
    const m = createMachine({ preempt: 'rt' });
    const s = m.runOn(0, () => {
      m.localBhDisable();
      const inside = {
        ...snapshot(m),
        softirqCount: m.softirqCount(),
        migrate: m.migrateDisabled(),
      };
      m.localBhEnable();
      return { inside, after: { ...snapshot(m), migrate: m.migrateDisabled() } };
    });
    expect(s.inside).toEqual({
      ...TASK_CTX,
      inSoftirq: true,
      inInterrupt: true,
      softirqCount: 0x200,
      migrate: 1,
    });
    expect(s.after).toEqual({ ...TASK_CTX, migrate: 0 });
  });
});

/** Nest task -> softirq -> hardirq -> NMI on CPU 0 and record every level on the way in and out. */
function nest(m: Machine): Record<string, Ctx> {
  const seen: Record<string, Ctx> = {};
  const p = m.defineProbe('test:nest');
  const irq = m.requestIrq(
    'test-dev',
    () => {
      seen.hardirq = snapshot(m);
      m.raiseNmi(0, () => {
        seen.nmi = snapshot(m);
      });
      m.probe(p);
      seen.hardirqAfter = snapshot(m);
    },
    IRQF_NO_THREAD,
  );
  m.openSoftirq(NET_RX_SOFTIRQ, () => {
    seen.softirq = snapshot(m);
    m.raiseIrq(0, irq);
    m.probe(p);
    seen.softirqAfter = snapshot(m);
  });
  m.runOn(0, () => {
    seen.task = snapshot(m);
    m.localBhDisable();
    m.raiseSoftirq(NET_RX_SOFTIRQ);
    m.localBhEnable();
    seen.taskAfter = snapshot(m);
  });
  return seen;
}

describe('nesting task -> softirq -> hardirq -> NMI and back', () => {
  for (const preempt of NON_RT) {
    it(`has the kernel's preempt_count at every level on preempt=${preempt}`, () => {
      const m = createMachine({ preempt });
      const s = nest(m);
      expect(s.task).toEqual(TASK_CTX);
      // __local_bh_enable_ip() keeps one PREEMPT_OFFSET while do_softirq() runs.
      const softirq: Ctx = {
        pc: 0x101,
        inNmi: false,
        inHardirq: false,
        inSoftirq: true,
        inServingSoftirq: true,
        inInterrupt: true,
        inTask: false,
        inAtomic: true,
        preemptible: false,
        irqsDisabled: false,
        context: 'softirq',
      };
      expect(s.softirq).toEqual(softirq);
      const hardirq: Ctx = {
        ...softirq,
        pc: 0x10101,
        inHardirq: true,
        irqsDisabled: true,
        context: 'hardirq',
      };
      expect(s.hardirq).toEqual(hardirq);
      expect(s.nmi).toEqual({ ...hardirq, pc: 0x120101, inNmi: true, context: 'nmi' });
      expect(s.hardirqAfter).toEqual(hardirq);
      expect(s.softirqAfter).toEqual(softirq);
      expect(s.taskAfter).toEqual(TASK_CTX);
    });
  }

  it('on PREEMPT_RT softirqs run in the task, preemptible, with the serving bit in the task', () => {
    const m = createMachine({ preempt: 'rt' });
    const s = nest(m);
    expect(s.task).toEqual(TASK_CTX);
    const softirq: Ctx = {
      pc: 0,
      inNmi: false,
      inHardirq: false,
      inSoftirq: true,
      inServingSoftirq: true,
      inInterrupt: true,
      inTask: false,
      inAtomic: false,
      preemptible: true,
      irqsDisabled: false,
      context: 'softirq',
    };
    expect(s.softirq).toEqual(softirq);
    const hardirq: Ctx = {
      ...softirq,
      pc: 0x10000,
      inHardirq: true,
      inAtomic: true,
      preemptible: false,
      irqsDisabled: true,
      context: 'hardirq',
    };
    expect(s.hardirq).toEqual(hardirq);
    expect(s.nmi).toEqual({ ...hardirq, pc: 0x120000, inNmi: true, context: 'nmi' });
    expect(s.hardirqAfter).toEqual(hardirq);
    expect(s.softirqAfter).toEqual(softirq);
    expect(s.taskAfter).toEqual(TASK_CTX);
  });
});

describe('interrupts straight from task context', () => {
  for (const preempt of PREEMPT_MODELS) {
    it(`hardirq, NMI and softirq-on-irq-exit bits on preempt=${preempt}`, () => {
      const m = createMachine({ preempt });
      const seen: Record<string, Ctx> = {};
      const p = m.defineProbe('p');
      m.openSoftirq(NET_RX_SOFTIRQ, () => {
        seen.softirq = snapshot(m);
      });
      const irq = m.requestIrq(
        'dev',
        () => {
          seen.hardirq = snapshot(m);
          m.raiseSoftirq(NET_RX_SOFTIRQ);
        },
        IRQF_NO_THREAD,
      );
      m.runOn(0, () => {
        m.raiseNmi(0, () => {
          seen.nmi = snapshot(m);
        });
        m.probe(p);
        m.raiseIrq(0, irq);
        m.probe(p);
        seen.after = snapshot(m);
      });
      m.runUntilIdle();
      const hardirq: Ctx = {
        pc: 0x10000,
        inNmi: false,
        inHardirq: true,
        inSoftirq: false,
        inServingSoftirq: false,
        inInterrupt: true,
        inTask: false,
        inAtomic: true,
        preemptible: false,
        irqsDisabled: true,
        context: 'hardirq',
      };
      expect(seen.hardirq).toEqual(hardirq);
      expect(seen.nmi).toEqual({ ...hardirq, pc: 0x110000, inNmi: true, context: 'nmi' });
      if (preempt === 'rt') {
        // Raised in hardirq, run later by ksoftirqd in task context.
        expect(seen.softirq).toMatchObject({ pc: 0, context: 'softirq', preemptible: true });
      } else {
        // Run on irq exit: only the serving bit, irqs back on.
        expect(seen.softirq).toMatchObject({
          pc: 0x100,
          context: 'softirq',
          irqsDisabled: false,
          inAtomic: true,
        });
      }
      expect(seen.after).toEqual(TASK_CTX);
    });
  }
});

describe('unbalanced transitions are reported, not ignored', () => {
  it('preempt_enable() below zero is a WARNING and leaves the count at zero', () => {
    const m = createMachine();
    m.runOn(0, () => m.preemptEnable());
    expect(m.preemptCount()).toBe(0);
    const [r] = m.reports({ kind: 'preempt-imbalance' });
    expect(r).toBeDefined();
    expect(r!.text).toContain('------------[ cut here ]------------');
    expect(r!.text).toContain(
      'DEBUG_LOCKS_WARN_ON((val < PREEMPT_MASK) && !(preempt_count() & PREEMPT_MASK))',
    );
    expect(r!.text).toContain('WARNING: CPU: 0 PID: ');
    expect(r!.text).toContain('at kernel/sched/core.c preempt_count_sub');
    expect(m.tainted()).toBe('Tainted: G        W          ');
  });

  it('preempt_disable() nested to within 10 of the mask is a WARNING, and still counts', () => {
    const m = createMachine();
    m.runOn(0, () => {
      for (let i = 0; i < 245; i++) m.preemptDisable();
      expect(m.reports({ kind: 'preempt-imbalance' })).toHaveLength(0);
      m.preemptDisable();
      expect(m.preemptCount()).toBe(246);
      for (let i = 0; i < 246; i++) m.preemptEnable();
    });
    expect(m.preemptCount()).toBe(0);
    const reports = m.reports({ kind: 'preempt-imbalance' });
    expect(reports).toHaveLength(1);
    expect(reports[0]!.text).toContain(
      'DEBUG_LOCKS_WARN_ON((preempt_count() & PREEMPT_MASK) >= PREEMPT_MASK - 10)',
    );
    expect(reports[0]!.text).toContain('at kernel/sched/core.c preempt_count_add');
  });

  it('local_bh_enable() without local_bh_disable() is reported on !RT and RT', () => {
    for (const preempt of ['voluntary', 'rt'] as const) {
      const m = createMachine({ preempt });
      m.runOn(0, () => m.localBhEnable());
      expect(m.reports({ kind: 'preempt-imbalance' })).toHaveLength(1);
      expect(m.softirqCount()).toBe(0);
    }
  });

  it('local_irq_restore() with irqs already enabled is the kernel bogus-restore warning', () => {
    const m = createMachine();
    m.runOn(0, () => {
      const flags = m.localIrqSave();
      m.localIrqRestore(flags);
      m.localIrqRestore(flags);
    });
    const r = m.reports({ kind: 'preempt-imbalance' });
    expect(r).toHaveLength(1);
    expect(r[0]!.text).toContain('raw_local_irq_restore() called with IRQs enabled');
  });

  it('restoring flags saved on another CPU is reported', () => {
    const m = createMachine({ nrCpus: 2 });
    const flags = m.runOn(0, () => m.localIrqSave());
    m.runOn(1, () => {
      m.localIrqDisable();
      m.localIrqRestore(flags);
    });
    const r = m.reports({ kind: 'preempt-imbalance' });
    expect(r.map((x) => x.details.message)).toContain(
      'local_irq_restore() of flags saved on CPU 0 while running on CPU 1',
    );
    expect(m.runOn(1, () => m.irqsDisabled())).toBe(false);
  });

  it('migrate_enable() below zero is reported', () => {
    const m = createMachine();
    m.runOn(0, () => m.migrateEnable());
    expect(m.reports({ kind: 'preempt-imbalance' })[0]!.details.op).toBe('migrate_enable');
  });

  it('local_bh_enable() with irqs disabled warns like lockdep_assert_irqs_enabled()', () => {
    const m = createMachine();
    m.runOn(0, () => {
      m.localBhDisable();
      m.localIrqDisable();
      m.localBhEnable();
      m.localIrqEnable();
    });
    expect(m.reports({ kind: 'irq-context' })).toHaveLength(1);
  });

  it('bad flags are a host error', () => {
    const m = createMachine();
    expect(() => m.runOn(0, () => m.localIrqRestore(-1))).toThrow(/localIrqRestore/);
  });
});

describe('irq state trace hooks', () => {
  it('see every hardirq and softirq on/off transition', () => {
    const m = createMachine();
    const events: string[] = [];
    m.setIrqTraceHooks({
      hardirqsOn: () => events.push('hardirqs-on'),
      hardirqsOff: () => events.push('hardirqs-off'),
      softirqsOn: () => events.push('softirqs-on'),
      softirqsOff: () => events.push('softirqs-off'),
    });
    m.runOn(0, () => {
      const f = m.localIrqSave();
      const g = m.localIrqSave();
      m.localIrqRestore(g);
      m.localIrqRestore(f);
      m.localBhDisable();
      m.localBhDisable();
      m.localBhEnable();
      m.localBhEnable();
    });
    expect(events).toEqual(['hardirqs-off', 'hardirqs-on', 'softirqs-off', 'softirqs-on']);
  });
});

describe('preempt_count_add(2) for two back-to-back preempt_disable() calls', () => {
  /** What a CPU shows after `body`: count, clock, and the "Preemption disabled at:" line. */
  function after(body: (m: Machine) => void) {
    const m = createMachine();
    const fn = m.fnId('pcp_spin_trylock_caller');
    return m.runOn(0, () => {
      m.fnEnter(fn);
      body(m);
      m.mightSleep('mm/page_alloc.c:1');
      const pc = m.preemptCount();
      const now = m.now();
      m.fnExit();
      const [r] = m.reports({ kind: 'might-sleep' });
      return { pc, now, disabledAt: r!.text.split('\n')[4] };
    });
  }

  it('counts, costs and records the same as two calls', () => {
    const two = after((m) => {
      m.preemptDisable();
      m.preemptDisable();
    });
    const fused = after((m) => m.preemptCountAdd(2));
    expect(fused).toEqual(two);
    expect(fused.pc).toBe(2);
    expect(fused.disabledAt).toMatch(/\] pcp_spin_trylock_caller$/);
  });

  it('preempt_count_sub(2) undoes it at the cost of two preempt_enable() calls', () => {
    const m = createMachine();
    const a = m.runOn(0, () => {
      m.preemptCountAdd(2);
      const t0 = m.now();
      m.preemptEnable();
      m.preemptEnable();
      return m.now() - t0;
    });
    const b = m.runOn(0, () => {
      m.preemptCountAdd(2);
      const t0 = m.now();
      m.preemptCountSub(2);
      return m.now() - t0;
    });
    expect(a).toBe(2);
    expect(b).toBe(a);
    expect(m.preemptCount()).toBe(0);
    expect(m.reports()).toHaveLength(0);
  });

  it('near the overflow limit warns exactly as two preempt_disable() calls would', () => {
    const m = createMachine();
    m.runOn(0, () => {
      for (let i = 0; i < 244; i++) m.preemptDisable();
      m.preemptCountAdd(2);
      expect(m.preemptCount()).toBe(246);
      m.preemptCountSub(246);
    });
    expect(m.preemptCount()).toBe(0);
    const reports = m.reports({ kind: 'preempt-imbalance' });
    expect(reports).toHaveLength(1);
    expect(reports[0]!.text).toContain('at kernel/sched/core.c preempt_count_add');
  });

  it('preempt_count_sub(2) with one level held warns as the second preempt_enable() would', () => {
    const m = createMachine();
    m.runOn(0, () => {
      m.preemptDisable();
      m.preemptCountSub(2);
    });
    expect(m.preemptCount()).toBe(0);
    const [r] = m.reports({ kind: 'preempt-imbalance' });
    expect(r!.text).toContain('at kernel/sched/core.c preempt_count_sub');
  });

  it('a bad count is a typed error that changes nothing', () => {
    const m = createMachine();
    for (const bad of [0, -1, 1.5, 256, Number.NaN]) {
      m.runOn(0, () => {
        const t0 = m.now();
        expect(() => m.preemptCountAdd(bad)).toThrow(MachineError);
        expect(() => m.preemptCountSub(bad)).toThrow(/accepted an integer from 1 to 255/);
        expect(m.preemptCount()).toBe(0);
        expect(m.now()).toBe(t0);
      });
    }
    expect(m.reports()).toHaveLength(0);
  });
});
