import { beforeAll, describe, expect, it } from 'vitest';
import type { RunDocument } from '../src/report/result.js';
import { runScenario } from '../src/runner.js';
import memoryPressureDefault, { memoryPressureScenario } from '../src/scenarios/memory-pressure.js';

function metric(doc: RunDocument, id: string): number {
  const m = doc.metrics.find((x) => x.id === id);
  if (m === undefined) throw new Error(`no metric ${id}`);
  return m.value;
}

/** A cell of the per-phase table, by column name. */
function cell(doc: RunDocument, cached: number, phase: string, column: string): number {
  const t = doc.tables[0]!;
  const c = t.columns.indexOf(column);
  if (c < 0) throw new Error(`no column ${column}`);
  const row = t.rows.find((r) => r[0] === cached && r[1] === phase);
  if (row === undefined) throw new Error(`no row ${cached} ${phase}`);
  const v = row[c];
  if (typeof v !== 'number') throw new Error(`${column} of ${cached} ${phase} is ${String(v)}`);
  return v;
}

const PHASES = [
  'no pressure',
  'free below min',
  'free between min and low',
  'pressure released',
] as const;
const CACHES = [0, 1, 5] as const;

describe('memory-pressure: kvfree_rcu_mightsleep() with memory near exhaustion (seed 004)', () => {
  let doc: RunDocument;
  beforeAll(() => {
    doc = runScenario(memoryPressureScenario, { small: true }).doc;
  }, 120_000);

  it('is exported as the default and as a named export', () => {
    expect(memoryPressureDefault).toBe(memoryPressureScenario);
    expect(memoryPressureScenario.name).toBe('memory-pressure');
    expect(memoryPressureScenario.seeds).toEqual(['004']);
  });

  it('boots one kernel per rcu_min_cached_objs and runs every phase on each', () => {
    expect(doc.tables[0]!.rows).toHaveLength(CACHES.length * PHASES.length);
    expect(doc.tables[1]!.rows.map((r) => r[0])).toEqual([...CACHES]);
    for (const c of CACHES) {
      for (const p of PHASES) expect(cell(doc, c, p, 'updates')).toBeGreaterThan(0);
    }
  });

  it('holds free memory below the min watermark, and the zone says so', () => {
    const zi = doc.logLines.join('\n');
    const free = Number(/pages free\s+(\d+)/.exec(zi)?.[1]);
    const min = Number(/\bmin\s+(\d+)/.exec(zi)?.[1]);
    expect(min).toBeGreaterThan(0);
    expect(free).toBeLessThan(min);
    for (const c of CACHES) {
      expect(cell(doc, c, 'free below min', 'min free pages')).toBeLessThan(min);
      expect(cell(doc, c, 'no pressure', 'min free pages')).toBeGreaterThan(10 * min);
    }
  });

  it('without a cache, every headless free below min waits for a grace period inline', () => {
    expect(cell(doc, 0, 'free below min', 'pointer page alloc failures')).toBeGreaterThan(0);
    expect(metric(doc, 'cache0_sync_fallbacks_below_min')).toBeGreaterThan(0);
    expect(metric(doc, 'cache0_fallback_pct_below_min')).toBeGreaterThanOrEqual(50);
    // A fallback costs a whole grace period: milliseconds, not the microseconds of a queued free.
    expect(metric(doc, 'cache0_fallback_mean_ns')).toBeGreaterThan(1_000_000);
    expect(metric(doc, 'cache0_fallback_max_ns')).toBeGreaterThanOrEqual(
      metric(doc, 'cache0_fallback_mean_ns'),
    );
    // The chain reaction: the updaters slow to a crawl.
    expect(metric(doc, 'cache0_updates_below_min') * 20).toBeLessThan(
      cell(doc, 0, 'no pressure', 'updates'),
    );
  });

  it('with a cache, recycled pointer pages serve most frees below min', () => {
    for (const c of [1, 5]) {
      expect(metric(doc, `cache${c}_fallback_pct_below_min`) * 10).toBeLessThan(
        metric(doc, 'cache0_fallback_pct_below_min'),
      );
      expect(metric(doc, `cache${c}_updates_below_min`)).toBeGreaterThan(
        10 * metric(doc, 'cache0_updates_below_min'),
      );
    }
  });

  it('reaches its verdict: the cache reduces the fallbacks but the shrinker keeps it from avoiding them', () => {
    expect(doc.verdict.ok).toBe(true);
    expect(doc.verdict.summary).toMatch(/rcu_min_cached_objs=0: \d+ inline synchronize_rcu\(\)/);
    expect(doc.verdict.summary).toMatch(/reduces the inline synchronize_rcu\(\) under pressure/);
    expect(metric(doc, 'cache5_sync_fallbacks_below_min')).toBeGreaterThan(0);
    expect(cell(doc, 5, 'free below min', 'pointer pages returned')).toBeGreaterThan(0);
    expect(cell(doc, 5, 'free below min', 'kswapd runs')).toBeGreaterThan(0);
    expect(doc.verdict.summary).toMatch(/slab-kvfree-rcu shrinker drains the cache/);
  });

  it('has no fallbacks and no failed pointer pages with free memory above the watermarks', () => {
    for (const c of CACHES) {
      for (const p of ['no pressure', 'pressure released'] as const) {
        expect(cell(doc, c, p, 'inline synchronize_rcu()')).toBe(0);
        expect(cell(doc, c, p, 'pointer page alloc failures')).toBe(0);
        expect(cell(doc, c, p, 'kmalloc failures')).toBe(0);
      }
    }
    // Without a cache every pointer page comes from the allocator; with one, recycled pages do.
    expect(cell(doc, 0, 'no pressure', 'pointer pages allocated')).toBeGreaterThan(
      cell(doc, 5, 'no pressure', 'pointer pages allocated'),
    );
  });

  it('fails allocations instead of killing: no OOM kill, every object freed, no splat', () => {
    for (const c of CACHES) {
      expect(metric(doc, `cache${c}_oom_kills`)).toBe(0);
      expect(metric(doc, `cache${c}_page_alloc_failures`)).toBeGreaterThan(0);
      expect(metric(doc, `cache${c}_peak_footprint_kb`)).toBeGreaterThan(0);
    }
    expect(metric(doc, 'objects_not_freed')).toBe(0);
    for (const r of doc.tables[1]!.rows) expect(r[2]).toBe(r[3]);
    expect(doc.reports).toEqual([]);
  });

  it('plots free memory, pending objects and cached pages over time', () => {
    for (const c of CACHES) {
      const free = doc.series.find((s) => s.id === `free_pages_cache${c}`)!;
      const pending = doc.series.find((s) => s.id === `pending_objects_cache${c}`)!;
      expect(free.points.length).toBeGreaterThan(20);
      expect(pending.points).toHaveLength(free.points.length);
      for (let i = 1; i < free.points.length; i++) {
        expect(free.points[i]![0]).toBeGreaterThan(free.points[i - 1]![0]);
      }
      const lowest = Math.min(...free.points.map((p) => p[1]));
      expect(lowest).toBe(Math.min(...PHASES.map((p) => cell(doc, c, p, 'min free pages'))));
      expect(Math.max(...pending.points.map((p) => p[1]))).toBe(
        metric(doc, `cache${c}_peak_pending`),
      );
    }
    const cached = doc.series.find((s) => s.id === 'cached_pages_cache5')!;
    expect(Math.max(...cached.points.map((p) => p[1]))).toBeGreaterThan(0);
  });

  it('has stable, unique metric ids and states its scale and what it does not model', () => {
    const ids = doc.metrics.map((m) => m.id);
    expect(new Set(ids).size).toBe(ids.length);
    const notes = doc.notes.join(' ');
    expect(notes).toMatch(/Scale: 3 kernels/);
    expect(notes).toMatch(/kfree_rcu\.memalloc=1/);
  });

  it('with the 2020 __GFP_MEMALLOC RFC booted, the pointer pages come from the reserves: no fallback', () => {
    const rfc = runScenario(memoryPressureScenario, {
      small: true,
      cmdline: 'kfree_rcu.memalloc=1',
    }).doc;
    expect(rfc.verdict.ok).toBe(true);
    expect(rfc.verdict.summary).toMatch(
      /the pointer pages come from the reserves below the min watermark/,
    );
    expect(rfc.verdict.summary).toMatch(/rcu_min_cached_objs=0: 0 inline synchronize_rcu\(\)/);
    // Without the RFC the same pressure makes every headless free fall back when nothing is cached.
    expect(doc.verdict.summary).toMatch(
      /rcu_min_cached_objs=0: (\d+) inline synchronize_rcu\(\) in \1 headless frees \(100%/,
    );
  }, 120_000);

  it('gives byte-identical JSON for the same seed', () => {
    const again = runScenario(memoryPressureScenario, { small: true }).doc;
    expect(JSON.stringify(again)).toBe(JSON.stringify(doc));
  }, 120_000);

  it('takes the seed from the command line', () => {
    const other = runScenario(memoryPressureScenario, { small: true, seed: 7 }).doc;
    expect(other.seed).toBe(7);
    expect(other.verdict.ok).toBe(true);
  }, 120_000);
});
