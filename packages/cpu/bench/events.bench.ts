import { createMachine, EventQueue } from '@sim/cpu';
import { bench, describe } from 'vitest';

// Deterministic pseudo-random delays so every run does the same work.
const DELAYS = new Float64Array(4096);
for (let i = 0, x = 12345; i < DELAYS.length; i++) {
  x = (Math.imul(x, 1103515245) + 12345) >>> 0;
  DELAYS[i] = 1 + (x % 100_000);
}
const BATCH = 1000;
const noop = (_a: unknown): void => {};

function filledQueue(pending: number): EventQueue {
  const q = new EventQueue(pending);
  for (let i = 0; i < pending; i++) q.push(DELAYS[i % DELAYS.length]!, 0, noop, null);
  return q;
}

// The hold model: pop the earliest event, push a new one later; the queue
// size stays constant. Each bench iteration moves BATCH events.
describe('event queue (hold model, x1000 events per iteration)', () => {
  for (const pending of [64, 65_536]) {
    const q = filledQueue(pending);
    let k = 0;
    bench(`EventQueue pop+push, ${pending} pending`, () => {
      for (let i = 0; i < BATCH; i++) {
        q.pop();
        q.push(q.outTime + DELAYS[k++ & 4095]!, 0, noop, null);
      }
    });
  }
});

describe('machine dispatch (x1000 events per iteration)', () => {
  for (const pending of [64, 65_536]) {
    const m = createMachine({ nrCpus: 4 });
    let k = 0;
    // Each event re-queues itself later on the same CPU, like a periodic timer.
    const fn = (arg: unknown): void => {
      m.queueEvent(m.now() + DELAYS[k++ & 4095]!, arg as number, fn, arg);
    };
    for (let i = 0; i < pending; i++) m.queueEvent(DELAYS[i % 4096]!, i & 3, fn, i & 3);
    bench(`machine.run() of self-requeueing events, ${pending} pending`, () => {
      m.run({ maxEvents: BATCH });
    });
  }
});
