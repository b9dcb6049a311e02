import type { Wait } from '@sim/cpu';
import type { KvfreeRcuStrategyName } from '@sim/rcu';
import { bench, describe } from 'vitest';
import { bootBench } from './setup.js';

const PER_CPU = 5_000;
const CPUS = 4;
const TOTAL = PER_CPU * CPUS;

function workload(strategy: KvfreeRcuStrategyName, touchOnFree = true) {
  const { m, rcu, pool } = bootBench({ kfreeRcu: strategy }, CPUS, touchOnFree);
  // Warm the page caches once.
  for (let c = 0; c < CPUS; c++) m.runOn(c, () => rcu.kfreeRcu(pool.alloc(), 0));
  m.runFor(10_000_000);
  const iteration = () => {
    const target = rcu.kvfreeStats().freed + TOTAL;
    for (let c = 0; c < CPUS; c++) {
      m.spawn(
        function* (): Generator<Wait<unknown>, void, unknown> {
          for (let i = 0; i < PER_CPU; i++) {
            rcu.kfreeRcu(pool.alloc(), 0);
            if ((i & 255) === 255) yield m.sleep(20_000);
          }
        },
        { cpu: c, affinity: [c] },
      );
    }
    while (rcu.kvfreeStats().freed < target) m.runFor(2_000_000);
  };
  // Warm the JIT and the simulated caches before measuring.
  for (let i = 0; i < 3; i++) iteration();
  return iteration;
}

describe('kfree_rcu end to end on 4 CPUs', () => {
  // Each iteration: 4 tasks kfree_rcu() 5000 objects each; the iteration ends
  // when all 20 000 are back in the slab. Objects per second = hz × 20 000.
  bench(`batched: ${TOTAL} objects (objects/s = hz x ${TOTAL})`, workload('batched'));
  // The same without the test slab writing its free pointer into each
  // (cold) object: the cost of the kvfree_rcu machinery alone.
  bench(`batched, slab free pointer not written: ${TOTAL} objects`, workload('batched', false));
  bench(`per-object: ${TOTAL} objects`, workload('per-object'));
});
