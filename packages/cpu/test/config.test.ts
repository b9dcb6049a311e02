import { describe, expect, it } from 'vitest';
import {
  createMachine,
  DEFAULT_COSTS,
  type MachineConfig,
  MachineConfigError,
  resolveMachineConfig,
} from '../src/index.js';

function errorOf(cfg: unknown): MachineConfigError {
  try {
    createMachine(cfg as MachineConfig);
  } catch (e) {
    if (e instanceof MachineConfigError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('machine config', () => {
  it('fills in kernel-like defaults', () => {
    const c = resolveMachineConfig({});
    expect(c).toMatchObject({
      nrCpus: 1,
      preempt: 'voluntary',
      hz: 1000,
      seed: 1,
      memBytes: 256 * 1024 * 1024,
      panicOnWarn: false,
      trace: false,
      kernelRelease: '6.18.0-sim',
    });
    expect(c.costs).toEqual(DEFAULT_COSTS);
    expect(c.cache.lineSize).toBe(64);
  });

  it.each([
    [{ nrCpus: 0 }, 'nrCpus', /accepted an integer in \[1, 1024\]/],
    [{ nrCpus: 1025 }, 'nrCpus', /1025/],
    [{ nrCpus: 1.5 }, 'nrCpus', /1\.5/],
    [{ preempt: 'lazy' }, 'preempt', /'none', 'voluntary', 'full', 'rt'/],
    [{ hz: 200 }, 'hz', /100, 250, 300, 1000/],
    [{ seed: 0.5 }, 'seed', /safe integer/],
    [{ memBytes: 1000 }, 'memBytes', /multiple of 4096/],
    [{ panicOnWarn: 1 }, 'panicOnWarn', /boolean/],
    [{ trace: 'yes' }, 'trace', /boolean/],
    [{ kernelRelease: 'a b' }, 'kernelRelease', /without spaces/],
    [{ costs: { ipi: -1 } }, 'costs.ipi', /ns >= 0/],
    [{ costs: { warp: 1 } }, 'costs.warp', /not a known cost/],
    [{ cache: { l1: { ways: 0 } } }, 'cache.l1.ways', /ways/],
    [{ cpus: 4 }, 'cpus', /not a machine config field/],
  ])('rejects %j naming the field', (cfg, field, msg) => {
    const e = errorOf(cfg);
    expect(e.field).toBe(field);
    expect(e.message).toMatch(msg);
    expect(e.code).toMatch(/BAD_VALUE|UNKNOWN_FIELD|BAD_TYPE/);
  });

  it('accepts every preemption model and HZ value, and cost overrides', () => {
    for (const preempt of ['none', 'voluntary', 'full', 'rt'] as const) {
      for (const hz of [100, 250, 300, 1000]) {
        const m = createMachine({ preempt, hz, nrCpus: 2 });
        expect(m.preemptModel).toBe(preempt);
        expect(m.hz).toBe(hz);
      }
    }
    const m = createMachine({ costs: { contextSwitch: 1 } });
    expect(m.costs.contextSwitch).toBe(1);
    expect(m.costs.ipi).toBe(DEFAULT_COSTS.ipi);
    expect(createMachine({ preempt: 'rt' }).preemptModelStr()).toBe('PREEMPT_RT');
    expect(createMachine({ preempt: 'full' }).preemptModelStr()).toBe('PREEMPT(full)');
  });

  it('builds a 1024-CPU machine without allocating its caches up front', () => {
    const m = createMachine({ nrCpus: 1024 });
    expect(m.nrCpus).toBe(1024);
    m.runOn(1023, () => expect(m.cpu).toBe(1023));
  });

  it('boots with the per-CPU kthreads asleep and no pending events', () => {
    const m = createMachine({ nrCpus: 2, preempt: 'rt' });
    expect(m.tasks().map((t) => t.comm)).toEqual([
      'ksoftirqd/0',
      'ktimers/0',
      'ksoftirqd/1',
      'ktimers/1',
      'irq_work/0',
      'irq_work/1',
    ]);
    expect(m.pendingEvents).toBe(0);
    expect(m.dmesg()).toMatch(/^\[ {4}0\.000000\] Linux version 6\.18\.0-sim/);
  });
});
