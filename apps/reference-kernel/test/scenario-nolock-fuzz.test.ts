import { beforeAll, describe, expect, it } from 'vitest';
import type { RunDocument } from '../src/report/result.js';
import { runScenario } from '../src/runner.js';
import nolockFuzzDefault, { nolockFuzzScenario } from '../src/scenarios/nolock-fuzz.js';

function metric(doc: RunDocument, id: string): number {
  const m = doc.metrics.find((x) => x.id === id);
  if (m === undefined) throw new Error(`no metric ${id}`);
  return m.value;
}

function table(doc: RunDocument, prefix: string) {
  const t = doc.tables.find((x) => x.title.startsWith(prefix));
  if (t === undefined) throw new Error(`no table ${prefix}`);
  const col = (name: string): number => {
    const i = t.columns.indexOf(name);
    if (i < 0) throw new Error(`no column ${name}`);
    return i;
  };
  const row = (label: string): readonly (string | number)[] => {
    const r = t.rows.find((x) => x[0] === label);
    if (r === undefined) throw new Error(`no row ${label}`);
    return r;
  };
  return { t, col, row };
}

const PER_CPU = 'slub, per-CPU list';
const PER_CACHE = 'slub, per-cache list';
const SHEAVES = 'sheaves, per-CPU list';

describe('nolock-fuzz: kmalloc_nolock()/kfree_nolock() re-entrancy (seed 001)', () => {
  let doc: RunDocument;
  beforeAll(() => {
    doc = runScenario(nolockFuzzScenario, { small: true }).doc;
  }, 60_000);

  it('is exported as the default and as a named export', () => {
    expect(nolockFuzzDefault).toBe(nolockFuzzScenario);
    expect(nolockFuzzScenario.name).toBe('nolock-fuzz');
    expect(nolockFuzzScenario.seeds).toEqual(['001']);
  });

  it('finds no corruption under NMIs and programs re-entering the allocator', () => {
    expect(doc.verdict.ok).toBe(true);
    expect(doc.verdict.summary).toMatch(
      /^0 corruptions in 3 kernels \(0 double handouts, 0 invariant problems\)/,
    );
    expect(metric(doc, 'kernels')).toBe(3);
    expect(metric(doc, 'corruptions')).toBe(0);
    expect(metric(doc, 'double_handouts')).toBe(0);
    expect(metric(doc, 'invariant_problems')).toBe(0);
    expect(doc.reports).toEqual([]);
  });

  it('really re-enters: NMIs and programs ran nolock calls in every kernel', () => {
    const runs = table(doc, 'Each kernel');
    expect(runs.t.rows.map((r) => r[0])).toEqual([PER_CPU, PER_CACHE, SHEAVES]);
    expect(runs.row(SHEAVES)[runs.col('allocator')]).toBe('sheaves');
    for (const label of [PER_CPU, PER_CACHE, SHEAVES]) {
      const r = runs.row(label);
      expect(r[runs.col('allocator')]).toBe(label === SHEAVES ? 'sheaves' : 'slub');
      expect(r[runs.col('NMIs')]).toBeGreaterThan(20);
      expect(r[runs.col('programs')]).toBeGreaterThan(10);
      expect(r[runs.col('nolock alloc')]).toBeGreaterThan(20);
      expect(r[runs.col('kfree_nolock')]).toBeGreaterThan(20);
      // Four tasks of 500 calls each.
      expect(Number(r[runs.col('kmalloc')]) + Number(r[runs.col('kfree')])).toBe(2000);
    }
    expect(metric(doc, 'reentries')).toBeGreaterThan(150);
  });

  it('accounts for every nolock call: success, or NULL with its reason; deferrals drained', () => {
    expect(metric(doc, 'accounting_mismatches')).toBe(0);
    const calls = metric(doc, 'nolock_alloc_calls');
    const nulls = metric(doc, 'nolock_null');
    expect(metric(doc, 'nolock_alloc_ok') + nulls).toBe(calls);
    expect(
      metric(doc, 'nolock_null_busy') +
        metric(doc, 'nolock_null_too_large') +
        metric(doc, 'nolock_null_rt_irq') +
        metric(doc, 'nolock_null_no_memory'),
    ).toBe(nulls);
    // The handlers ask for 16 KiB sometimes: NULL, counted as too large.
    expect(metric(doc, 'nolock_null_too_large')).toBeGreaterThan(0);
    // Not PREEMPT_RT: nothing refused for being in NMI.
    expect(metric(doc, 'nolock_null_rt_irq')).toBe(0);
    // An NMI in the slow path found the bucket's lock held and moved on.
    expect(metric(doc, 'nolock_retries')).toBeGreaterThan(0);
    expect(metric(doc, 'nolock_freed_now') + metric(doc, 'nolock_deferred')).toBe(
      metric(doc, 'nolock_free_calls'),
    );
    expect(metric(doc, 'nolock_deferred')).toBeGreaterThan(20);
    expect(metric(doc, 'deferred_drained')).toBe(metric(doc, 'nolock_deferred'));
    expect(metric(doc, 'deferred_drained_early')).toBeGreaterThan(0);
    expect(metric(doc, 'deferred_drained_early')).toBeLessThanOrEqual(
      metric(doc, 'deferred_drained'),
    );
  });

  it('per-CPU lists are drained by their irq_work; the per-cache list waits for the next free', () => {
    const runs = table(doc, 'Each kernel');
    const pc = runs.row(PER_CPU);
    expect(pc[runs.col('drained by irq_work/free')]).toBe(pc[runs.col('deferred')]);
    expect(metric(doc, 'per_cpu_pending_at_end')).toBe(0);
    expect(metric(doc, 'per_cache_pending_at_end')).toBeGreaterThan(0);
    const pk = runs.row(PER_CACHE);
    expect(pk[runs.col('drained by barrier')]).toBeGreaterThan(0);
  });

  it('the per-cache list bounces its struct kmem_cache line; the per-CPU lists do not', () => {
    const pc = metric(doc, 'per_cpu_bounces');
    const pk = metric(doc, 'per_cache_bounces');
    expect(pk).toBeGreaterThan(20);
    expect(pc).toBeLessThan(pk / 10);
    expect(metric(doc, 'per_cache_bounces_per_kfree')).toBeGreaterThan(
      metric(doc, 'per_cpu_bounces_per_kfree'),
    );
    expect(doc.verdict.summary).toMatch(
      new RegExp(`per-CPU ${pc}, per-cache ${pk} \\(per-CPU bounces less`),
    );
    const placement = table(doc, 'Deferred-free list placement');
    for (const label of [PER_CPU, PER_CACHE, SHEAVES]) {
      const r = placement.row(label);
      // The scenario's per-site sum equals the allocator's own count.
      expect(r[placement.col('list transfers')]).toBe(r[placement.col('slab stats transfers')]);
    }
    const sites = table(doc, 'Cache-line traffic');
    const kmemCache = sites.t.rows.find((r) => r[0] === PER_CACHE && r[1] === 'slab.kmem_cache');
    expect(kmemCache?.[3]).toBe(pk);
    expect(sites.t.rows.some((r) => r[0] === PER_CPU && r[1] === 'slab.defer:cpu0')).toBe(true);
    expect(sites.t.rows.some((r) => r[0] === PER_CACHE && r[1] === 'slab.defer:kmalloc-64')).toBe(
      true,
    );
  });

  it('plots the deferred lists and their bounces over virtual time', () => {
    const ids = doc.series.map((s) => s.id);
    expect(ids).toContain('per_cpu_deferred_pending');
    expect(ids).toContain('per_cache_defer_bounces');
    const b = doc.series.find((s) => s.id === 'per_cache_defer_bounces')!;
    expect(b.points.length).toBeGreaterThan(5);
    for (let i = 1; i < b.points.length; i++) {
      expect(b.points[i]![0]).toBeGreaterThan(b.points[i - 1]![0]);
      expect(b.points[i]![1]).toBeGreaterThanOrEqual(b.points[i - 1]![1]);
    }
    expect(b.points[b.points.length - 1]![1]).toBeGreaterThan(0);
  });

  it('states its scale', () => {
    expect(doc.notes.join(' ')).toMatch(
      /4 tasks pinned one per CPU doing 500 kmalloc\(\)\/kfree\(\) calls/,
    );
  });

  it('gives byte-identical JSON for the same seed', () => {
    const again = runScenario(nolockFuzzScenario, { small: true }).doc;
    expect(JSON.stringify(again)).toBe(JSON.stringify(doc));
  }, 60_000);

  it('another seed fuzzes other points and still finds no corruption', () => {
    const other = runScenario(nolockFuzzScenario, { small: true, seed: 7 }).doc;
    expect(other.seed).toBe(7);
    expect(other.verdict.ok).toBe(true);
    expect(metric(other, 'corruptions')).toBe(0);
    expect(metric(other, 'nolock_alloc_calls')).not.toBe(metric(doc, 'nolock_alloc_calls'));
    expect(metric(other, 'per_cpu_bounces')).toBeLessThan(metric(other, 'per_cache_bounces'));
  }, 60_000);

  it('on PREEMPT_RT, kmalloc_nolock() from NMI returns NULL and counts why; kfree_nolock() from NMI takes the sleeping per-CPU lock', () => {
    const rt = runScenario(nolockFuzzScenario, { small: true, cmdline: 'preempt=rt' }).doc;
    expect(metric(rt, 'corruptions')).toBe(0);
    expect(metric(rt, 'double_handouts')).toBe(0);
    expect(metric(rt, 'accounting_mismatches')).toBe(0);
    expect(metric(rt, 'nolock_null_rt_irq')).toBeGreaterThan(0);
    // SLUB's do_slab_free() (v6.18) takes local_lock_cpu_slab() -- an
    // rt_spin_lock on RT -- when kfree_nolock() runs in NMI and the
    // interrupted task does not hold it: lockdep and might_sleep() object.
    expect(metric(rt, 'other_reports')).toBeGreaterThan(0);
    expect(rt.verdict.ok).toBe(false);
    expect(rt.verdict.summary).toMatch(/other reports \(.*lockdep-inconsistent/);
    const fuzzReports = rt.reports.filter((r) => r.context === 'nmi');
    expect(fuzzReports.length).toBeGreaterThan(0);
    expect(new Set(fuzzReports.map((r) => r.kind))).toEqual(
      new Set(['might-sleep', 'lockdep-inconsistent']),
    );
    expect(rt.logLines[0]).toMatch(/BUG: sleeping function called from invalid context/);
  }, 60_000);
});
