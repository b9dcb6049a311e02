import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Completion,
  createMachine,
  NET_RX_SOFTIRQ,
  type PreemptModel,
  WaitQueueHead,
} from '../src/index.js';

type Step =
  | { op: 'sleep'; ns: number }
  | { op: 'msleep'; ms: number }
  | { op: 'busy'; ns: number }
  | { op: 'cond' }
  | { op: 'signal'; to: number }
  | { op: 'wait' }
  | { op: 'irqoff'; ns: number }
  | { op: 'bhoff'; ns: number }
  | { op: 'preemptoff'; ns: number }
  | { op: 'irq'; cpu: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant('sleep' as const), ns: fc.integer({ min: 0, max: 300_000 }) }),
  fc.record({ op: fc.constant('msleep' as const), ms: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ op: fc.constant('busy' as const), ns: fc.integer({ min: 1, max: 2_000_000 }) }),
  fc.record({ op: fc.constant('cond' as const) }),
  fc.record({ op: fc.constant('signal' as const), to: fc.nat(7) }),
  fc.record({ op: fc.constant('wait' as const) }),
  fc.record({ op: fc.constant('irqoff' as const), ns: fc.integer({ min: 1, max: 100_000 }) }),
  fc.record({ op: fc.constant('bhoff' as const), ns: fc.integer({ min: 1, max: 100_000 }) }),
  fc.record({ op: fc.constant('preemptoff' as const), ns: fc.integer({ min: 1, max: 100_000 }) }),
  fc.record({ op: fc.constant('irq' as const), cpu: fc.nat(3) }),
);

const scenario = fc.record({
  nrCpus: fc.integer({ min: 1, max: 4 }),
  preempt: fc.constantFrom<PreemptModel>('none', 'voluntary', 'full', 'rt'),
  seed: fc.integer({ min: 0, max: 1000 }),
  tasks: fc.array(
    fc.record({
      prio: fc.constantFrom(10, 98, 110, 120, 120, 130),
      steps: fc.array(step, { maxLength: 12 }),
    }),
    { minLength: 1, maxLength: 6 },
  ),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function runScenario(s: Scenario) {
  const m = createMachine({ nrCpus: s.nrCpus, preempt: s.preempt, seed: s.seed, trace: true });
  const comps = s.tasks.map(() => new Completion(m));
  // Every wait is eventually satisfiable: besides the random signals, a
  // signaller task later completes each task's completion once per wait.
  const deficit = s.tasks.map((spec) => spec.steps.filter((st) => st.op === 'wait').length);
  const wq = new WaitQueueHead(m);
  let softirqs = 0;
  m.openSoftirq(NET_RX_SOFTIRQ, () => {
    softirqs++;
    m.charge(3_000);
  });
  const irq = m.requestIrq('nic', () => m.raiseSoftirq(NET_RX_SOFTIRQ));
  let done = 0;
  const nows: number[][] = s.tasks.map(() => []);
  const tasks = s.tasks.map((spec, i) =>
    m.spawn(
      function* () {
        const seen = nows[i]!;
        seen.push(m.now());
        for (const st of spec.steps) {
          switch (st.op) {
            case 'sleep':
              yield m.sleep(st.ns);
              break;
            case 'msleep':
              yield m.msleep(st.ms);
              break;
            case 'busy':
              yield m.busy(st.ns);
              break;
            case 'cond':
              yield m.condResched();
              break;
            case 'signal':
              comps[st.to % comps.length]!.complete();
              break;
            case 'wait':
              yield comps[i]!.wait();
              break;
            case 'irqoff': {
              const f = m.localIrqSave();
              yield m.busy(st.ns);
              m.localIrqRestore(f);
              break;
            }
            case 'bhoff':
              m.localBhDisable();
              yield m.busy(st.ns);
              m.localBhEnable();
              break;
            case 'preemptoff':
              m.preemptDisable();
              yield m.busy(st.ns);
              m.preemptEnable();
              break;
            case 'irq':
              m.raiseIrq(st.cpu % s.nrCpus, irq);
              break;
          }
          seen.push(m.now());
        }
        done++;
        wq.wakeUp();
      },
      { comm: `t${i}`, prio: spec.prio },
    ),
  );
  m.spawn(function* () {
    for (let i = 0; i < deficit.length; i++) {
      for (let k = 0; k < deficit[i]!; k++) {
        yield m.sleep(150_000);
        comps[i]!.complete();
      }
    }
  });
  const waiter = m.spawn(function* () {
    yield m.waitEvent(wq, () => done === tasks.length);
  });
  const r = m.runUntilIdle({ maxEvents: 2_000_000 });
  const irqs = s.tasks.reduce((n, t) => n + t.steps.filter((st) => st.op === 'irq').length, 0);
  return { m, tasks, waiter, r, nows, irqs, softirqs: () => softirqs, irqNo: irq };
}

describe('scheduler under random workloads (property)', () => {
  it('every task finishes, nothing is left queued, time never runs backwards, runs are reproducible', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const a = runScenario(s);
        expect(a.r.reason).toBe('idle');
        expect(a.tasks.every((t) => t.dead)).toBe(true);
        expect(a.waiter.dead).toBe(true);
        expect(a.m.pendingEvents).toBe(0);
        for (const seen of a.nows) {
          for (let k = 1; k < seen.length; k++)
            expect(seen[k]!).toBeGreaterThanOrEqual(seen[k - 1]!);
        }
        // No task leaves the machine in an atomic or irqs-off state.
        for (let c = 0; c < s.nrCpus; c++) {
          expect(a.m.runOn(c, () => [a.m.preemptCount(), a.m.irqsDisabled()])).toEqual([0, false]);
        }
        expect(a.m.reports()).toEqual([]);
        // Every irq line raised was taken (edge latching may merge close raises) and
        // every taken irq's softirq ran.
        const taken = a.m.irqCount(a.irqNo);
        expect(taken).toBeLessThanOrEqual(a.irqs);
        if (a.irqs > 0) expect(taken).toBeGreaterThan(0);
        expect(a.softirqs()).toBeGreaterThanOrEqual(Math.min(1, taken));
        for (let c = 0; c < s.nrCpus; c++) expect(a.m.softirqPending(c)).toBe(0);
        const b = runScenario(s);
        expect(b.m.exportChromeTrace()).toBe(a.m.exportChromeTrace());
      }),
      { numRuns: 60 },
    );
  });
});
