import { describe, it } from 'vitest';
import { runScenario } from '../src/runner.js';
import { rawLockKfreeRcuScenario } from '../src/scenarios/raw-lock-kfree-rcu.js';

describe('scratch', () => {
  it('explore', () => {
    const t0 = performance.now();
    const { doc } = runScenario(rawLockKfreeRcuScenario, { small: true });
    console.log((performance.now() - t0).toFixed(0), 'ms');
    console.log(doc.verdict);
    for (const r of doc.tables[0]!.rows) console.log(r.join(' | '));
    console.log(doc.metrics.map((m) => `${m.id}=${m.value}`).join('\n'));
    console.log(doc.logLines.join('\n'));
  });
});
