import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/runner.js';
import { kfreeRcuScaleScenario } from '../src/scenarios/kfree-rcu-scale.js';

describe('scratch', () => {
  for (const caches of [
    'cache.l2=256K cache.llc=1M',
    'cache.l2=256K cache.llc=2M',
    'cache.l2=512K cache.llc=4M',
  ]) {
    for (const design of ['batched', 'per-object']) {
      for (const small of [true, false]) {
        it(`${design} ${small}`, () => {
          const t = performance.now();
          const { doc } = runScenario(kfreeRcuScaleScenario, {
            cmdline: `kfree_rcu=${design} ${caches}`,
            small,
          });
          const rows = doc.tables[0]!.rows.filter((r) => /rcu|slab.freelist/.test(String(r[0])));
          console.log(
            caches,
            design,
            small,
            (performance.now() - t).toFixed(0),
            'ms',
            JSON.stringify({ m: doc.metrics.map((x) => [x.id, x.value]), l: doc.logLines, rows }),
          );
          expect(1).toBe(1);
        }, 120000);
      }
    }
  }
});
