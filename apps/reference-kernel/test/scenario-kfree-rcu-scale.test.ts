import { describe, expect, it } from 'vitest';
import type { RunDocument } from '../src/report/result.js';
import { runScenario } from '../src/runner.js';
import kfreeRcuScaleDefault, { kfreeRcuScaleScenario } from '../src/scenarios/kfree-rcu-scale.js';

/** rcuscale's summary line, as `kfree_scale_thread()` prints it. */
const SUMMARY =
  /^Total time taken by all kfree'ers: (\d+) ns, loops: (\d+), batches: (\d+), memory footprint: (\d+)MB$/;

function metric(doc: RunDocument, id: string): number {
  const m = doc.metrics.find((x) => x.id === id);
  if (m === undefined) throw new Error(`no metric ${id}`);
  return m.value;
}

function run(cmdline: string, seed?: number): RunDocument {
  return runScenario(kfreeRcuScaleScenario, {
    cmdline,
    small: true,
    ...(seed === undefined ? {} : { seed }),
  }).doc;
}

describe('kfree-rcu-scale: rcuscale kfree_rcu test, batched pointer arrays vs one call_rcu() per object', {
  timeout: 60_000,
}, () => {
  const batched = run('kfree_rcu=batched');
  const perObject = run('kfree_rcu=per-object');

  it('is exported both as the default and by name, for the scenario list', () => {
    expect(kfreeRcuScaleDefault).toBe(kfreeRcuScaleScenario);
    expect(kfreeRcuScaleScenario.name).toBe('kfree-rcu-scale');
    expect(kfreeRcuScaleScenario.seeds).toEqual(['000', '003']);
  });

  it('every object of every kfree_scale_thread is freed after its grace period, with no splat', () => {
    for (const doc of [batched, perObject]) {
      expect(doc.verdict.ok, doc.verdict.summary).toBe(true);
      // 4 CPUs, kfree_nthreads=-1: four threads of 3 loops of 1000 objects.
      expect(metric(doc, 'objects_freed')).toBe(4 * 3 * 1000);
      expect(doc.reports).toEqual([]);
      expect(metric(doc, 'grace_periods')).toBeGreaterThanOrEqual(1);
      expect(metric(doc, 'total_time_ns')).toBeGreaterThan(0);
      expect(metric(doc, 'drain_time_ns')).toBeGreaterThan(0);
    }
    expect(batched.verdict.summary).toMatch(
      /^kfree_rcu=batched: 12000 objects freed after \d+ grace periods/,
    );
  });

  it("prints rcuscale's parameter line and summary line, matching the metrics", () => {
    expect(batched.logLines[0]).toBe(
      'rcu-scale:--- kfree_rcu_test: kfree_mult=1 kfree_by_call_rcu=0 kfree_nthreads=-1 kfree_alloc_num=1000 kfree_loops=3 kfree_rcu_test_double=1 kfree_rcu_test_single=0',
    );
    expect(batched.logLines[1]).toBe('kfree object size=24, kfree_by_call_rcu=0');
    const m = SUMMARY.exec(batched.logLines[2]!);
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBe(metric(batched, 'total_time_ns'));
    expect(Number(m![2])).toBe(3);
    expect(Number(m![3])).toBe(metric(batched, 'rcuscale_batches'));
    // Every variant prints its own summary line too.
    expect(batched.logLines.filter((l) => SUMMARY.test(l))).toHaveLength(4);
  });

  it('seed 000: the pointer arrays take far fewer cache misses per object than walking rcu_head chains', () => {
    const arrays = metric(batched, 'misses_per_object');
    const chains = metric(perObject, 'misses_per_object');
    // Two 24-byte objects share a line: about one miss per two rcu_heads walked cold.
    expect(chains).toBeGreaterThan(0.3);
    expect(arrays).toBeGreaterThan(0);
    expect(chains / arrays).toBeGreaterThan(3);
    // The misses are where each design walks: rcu_do_batch() vs kfree_rcu_work().
    const site = (doc: RunDocument, label: string) =>
      doc.tables[0]!.rows.find((r) => r[0] === label)?.[2] ?? 0;
    expect(site(perObject, 'rcu.invoke')).toBeGreaterThan(0.3 * 12000);
    expect(site(batched, 'kvfree_rcu.bulk')).toBeGreaterThan(0);
    expect(site(batched, 'rcu.invoke')).toBeLessThan(100);
  });

  it('memory footprint: the peak held is at least the objects waiting, and the series returns to zero', () => {
    for (const doc of [batched, perObject]) {
      const mb = metric(doc, 'memory_footprint_mb');
      expect(mb).toBeGreaterThan(0);
      const footprint = doc.series.find((s) => s.id === 'memory_footprint')!;
      const pending = doc.series.find((s) => s.id === 'pending_objects')!;
      expect(footprint.unit).toBe('MB');
      expect(footprint.points.length).toBeGreaterThan(5);
      expect(Math.max(...footprint.points.map((p) => p[1]))).toBeLessThanOrEqual(mb);
      expect(pending.points.at(-1)![1]).toBe(0);
      expect(Math.max(...pending.points.map((p) => p[1]))).toBeGreaterThan(0);
      // Times are virtual ns, increasing.
      const ts = pending.points.map((p) => p[0]);
      expect(ts).toEqual([...ts].sort((a, b) => a - b));
    }
    // kvfree_rcu's pointer pages come on top of the objects themselves.
    expect(metric(batched, 'memory_footprint_mb')).toBeGreaterThan(0.2);
  });

  it('the headless variant waits for a grace period per object without batching, never with it', () => {
    const variants = (doc: RunDocument) => doc.tables[1]!;
    const row = (doc: RunDocument, name: string) =>
      variants(doc).rows.find((r) => String(r[0]).startsWith(name))!;
    const col = (doc: RunDocument, name: string) => variants(doc).columns.indexOf(name);
    const inline = col(batched, 'inline synchronize_rcu');
    const freed = col(batched, 'objects freed');
    // 4 threads x 2 loops x 20 objects.
    expect(row(perObject, 'single')[freed]).toBe(160);
    expect(row(perObject, 'single')[inline]).toBe(160);
    expect(row(batched, 'single')[inline]).toBe(0);
    expect(row(batched, 'single')[freed]).toBe(160);
    // Chosen at random (torture_random() & 0x800): some of each.
    const mixed = row(perObject, 'both')[inline] as number;
    expect(mixed).toBeGreaterThan(20);
    expect(mixed).toBeLessThan(140);
    // kfree_by_call_rcu: call_rcu() with a kfree() callback frees them all either way.
    expect(row(batched, 'kfree_by_call_rcu')[freed]).toBe(160);
    expect(row(perObject, 'kfree_by_call_rcu')[freed]).toBe(160);
    // Waiting a grace period per object makes the headless kfree'ers slow.
    const time = col(batched, 'kfree time (ns)');
    expect(row(perObject, 'single')[time] as number).toBeGreaterThan(
      100 * (row(batched, 'single')[time] as number),
    );
  });

  it('reports metrics with stable ids, units and directions for compare', () => {
    expect(batched.metrics.map((m) => m.id)).toEqual([
      'grace_periods',
      'rcuscale_batches',
      'misses_per_object',
      'memory_footprint_mb',
      'total_time_ns',
      'drain_time_ns',
      'objects_freed',
    ]);
    expect(batched.metrics.find((m) => m.id === 'memory_footprint_mb')!.unit).toBe('MB');
    expect(batched.metrics.find((m) => m.id === 'misses_per_object')!.better).toBe('lower');
    expect(batched.notes.join(' ')).toContain('kfree_alloc_num=1000, kfree_loops=3');
  });

  it('is deterministic: the same seed gives byte-identical JSON', () => {
    const a = JSON.stringify(run('kfree_rcu=batched', 7));
    const b = JSON.stringify(run('kfree_rcu=batched', 7));
    expect(a).toBe(b);
    expect(JSON.stringify(batched)).toBe(JSON.stringify(run('kfree_rcu=batched')));
  });
});
