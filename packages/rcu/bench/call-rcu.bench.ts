import { bench, describe } from 'vitest';
import { bootBench } from './setup.js';

const BATCH = 10_000;

describe('call_rcu', () => {
  // Each iteration: 10 000 call_rcu() on one CPU, then the grace period and
  // the invocation of every callback. Callbacks per second = hz × 10 000.
  const { m, rcu } = bootBench();
  const heads = m.memory.memblockAlloc(BATCH * 16, 64);
  const cb = rcu.defineCallback('bench_cb', () => {});
  const iteration = () => {
    m.runOn(1, () => {
      for (let i = 0; i < BATCH; i++) rcu.callRcu(heads + i * 16, cb);
    });
    while (rcu.callbacksPending() !== 0) m.runFor(1_000_000);
  };
  for (let i = 0; i < 3; i++) iteration();
  bench(`call_rcu x${BATCH}, end to end (callbacks/s = hz x ${BATCH})`, iteration);
});
