import { expect, it } from 'vitest';
import {
  Completion,
  createMachine,
  IRQF_NO_THREAD,
  NET_RX_SOFTIRQ,
  TimerList,
} from '../src/index.js';

// The example of README.md, kept here so that what it claims stays true.
it('README example prints what the README says', () => {
  const m = createMachine({ nrCpus: 2, preempt: 'full', seed: 42, trace: true });
  m.openSoftirq(NET_RX_SOFTIRQ, () => m.charge(5_000));
  const irq = m.requestIrq('eth0', () => m.raiseSoftirq(NET_RX_SOFTIRQ), IRQF_NO_THREAD);
  const ready = new Completion(m);
  m.spawn(
    function* () {
      yield m.msleep(2);
      m.raiseIrq(1, irq);
      ready.complete();
    },
    { comm: 'producer', cpu: 0 },
  );
  const consumer = m.spawn(
    function* () {
      yield ready.wait();
      m.preemptDisable();
      m.mightSleep('drivers/example.c:42');
      m.preemptEnable();
      return m.now();
    },
    { comm: 'consumer', cpu: 1 },
  );
  const t = new TimerList(() => m.printk('info', `timer fired in ${m.context()} context`));
  m.runOn(0, () => m.modTimer(t, m.jiffies + 10));
  m.runUntilIdle();

  const log = m.dmesg();
  expect(log).toContain(
    '[    0.004009] BUG: sleeping function called from invalid context at drivers/example.c:42\n',
  );
  expect(log).toContain(
    '[    0.004009] in_atomic(): 1, irqs_disabled(): 0, non_block: 0, pid: 4, name: consumer\n',
  );
  expect(log).toContain('[    0.004009] preempt_count: 1, expected: 0\n');
  expect(log).toContain('[    0.011001] timer fired in softirq context\n');
  expect(consumer.result).toBeGreaterThan(4_000_000);
  expect(m.irqCount(irq, 1)).toBe(1);
  expect(m.reports({ kind: 'might-sleep' })[0]).toMatchObject({ cpu: 1, pid: 4, comm: 'consumer' });
  expect(JSON.parse(m.exportChromeTrace()).traceEvents.length).toBeGreaterThan(10);
});
