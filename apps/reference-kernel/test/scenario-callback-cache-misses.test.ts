import { describe, expect, it } from 'vitest';
import type { RunDocument } from '../src/report/result.js';
import { runScenario } from '../src/runner.js';
import callbackCacheMissesDefault, {
  callbackCacheMissesScenario,
} from '../src/scenarios/callback-cache-misses.js';

function metric(doc: RunDocument, id: string): number {
  const m = doc.metrics.find((x) => x.id === id);
  if (m === undefined) throw new Error(`no metric ${id}`);
  return m.value;
}

function run(opts: { cmdline?: string; seed?: number } = {}): RunDocument {
  return runScenario(callbackCacheMissesScenario, { small: true, ...opts }).doc;
}

describe('callback-cache-misses (seed 000): rcu_head lists vs pointer arrays', {
  timeout: 60_000,
}, () => {
  const doc = run();
  const table = doc.tables[0]!;
  const cell = (design: string, column: string) =>
    table.rows.find((r) => r[0] === `kfree_rcu=${design}`)![table.columns.indexOf(column)]!;

  it('is exported both as the default and by name', () => {
    expect(callbackCacheMissesDefault).toBe(callbackCacheMissesScenario);
    expect(callbackCacheMissesScenario.name).toBe('callback-cache-misses');
    expect(callbackCacheMissesScenario.seeds).toEqual(['000']);
  });

  it('the same stream of frees runs on both designs and every object is freed, without splats', () => {
    // 4 CPUs x 1000 objects.
    expect(cell('per-object', 'objects freed')).toBe(4000);
    expect(cell('batched', 'objects freed')).toBe(4000);
    expect(metric(doc, 'callbacks_invoked')).toBe(4000);
    expect(doc.reports).toEqual([]);
  });

  it('per-object: one call_rcu() callback per object, each rcu_head walked cold — about one miss each', () => {
    expect(cell('per-object', 'call_rcu callbacks')).toBe(4000);
    const lists = metric(doc, 'misses_per_callback_lists');
    expect(lists).toBeGreaterThan(0.9);
    expect(lists).toBeLessThanOrEqual(1.01);
    expect(cell('per-object', 'rcu.invoke')).toBeGreaterThan(0.9 * 4000);
  });

  it('batched: a few rcu_work callbacks; the arrays pack 8 pointers a line, so far fewer misses', () => {
    expect(cell('batched', 'call_rcu callbacks') as number).toBeLessThan(100);
    expect(cell('batched', 'rcu.invoke') as number).toBeLessThan(50);
    expect(cell('batched', 'kvfree_rcu.bulk') as number).toBeGreaterThan(0);
    const arrays = metric(doc, 'misses_per_callback_arrays');
    expect(arrays).toBeGreaterThan(0);
    expect(arrays).toBeLessThan(0.5);
  });

  it('the verdict is computed from the ratio: arrays save most misses', () => {
    const ratio = metric(doc, 'miss_ratio');
    expect(ratio).toBeCloseTo(
      metric(doc, 'misses_per_callback_lists') / metric(doc, 'misses_per_callback_arrays'),
      9,
    );
    expect(ratio).toBeGreaterThan(2);
    expect(metric(doc, 'misses_saved_pct')).toBeGreaterThan(50);
    expect(doc.verdict.ok).toBe(true);
    expect(doc.verdict.summary).toMatch(/^pointer arrays save most misses: /);
  });

  it('with the default caches the stream stays cached: nothing to save and the verdict says so', () => {
    const big = run({ cmdline: 'cache.l1d=48K cache.l2=2M cache.llc=32M' });
    expect(metric(big, 'misses_per_callback_lists')).toBeLessThan(0.1);
    expect(big.verdict.ok).toBe(false);
    expect(big.verdict.summary).toMatch(/do not save most misses/);
  });

  it('plots the objects waiting in each design, draining to zero', () => {
    for (const id of ['pending_lists', 'pending_arrays']) {
      const s = doc.series.find((x) => x.id === id)!;
      expect(s.points.length).toBeGreaterThan(2);
      expect(s.points.at(-1)![1]).toBe(0);
    }
  });

  it('is deterministic: the same seed gives byte-identical JSON', () => {
    expect(JSON.stringify(run({ seed: 3 }))).toBe(JSON.stringify(run({ seed: 3 })));
  });
});
