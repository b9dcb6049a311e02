import { bench, describe } from 'vitest';
import { bootBench } from './setup.js';

const SIM_MS = 100;

describe('grace periods', () => {
  // Back-to-back synchronize_rcu() on one CPU while the others run
  // preemptible kernel loops: how fast the simulator turns grace periods, and
  // how many grace periods one simulated second holds.
  const { m, rcu } = bootBench();
  for (let c = 1; c < 4; c++) {
    m.spawn(
      function* () {
        for (;;) yield m.busy(1_000_000);
      },
      { cpu: c, affinity: [c] },
    );
  }
  m.spawn(
    function* () {
      for (;;) yield* rcu.synchronizeRcu();
    },
    { cpu: 0, affinity: [0] },
  );
  let gps0 = rcu.stats().gpCompleted;
  let t0 = m.now();
  bench(
    `simulate ${SIM_MS} ms of back-to-back grace periods`,
    () => {
      m.runFor(SIM_MS * 1_000_000);
    },
    {
      teardown: () => {
        const gps = rcu.stats().gpCompleted - gps0;
        const secs = (m.now() - t0) / 1e9;
        if (secs > 0) console.log(`grace periods per simulated second: ${(gps / secs).toFixed(1)}`);
        gps0 = rcu.stats().gpCompleted;
        t0 = m.now();
      },
    },
  );
});
