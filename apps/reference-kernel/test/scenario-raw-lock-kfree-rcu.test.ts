import { beforeAll, describe, expect, it } from 'vitest';
import type { RunDocument } from '../src/report/result.js';
import { runScenario } from '../src/runner.js';
import rawLockDefault, { rawLockKfreeRcuScenario } from '../src/scenarios/raw-lock-kfree-rcu.js';

const COLS = {
  preempt: 0,
  design: 1,
  locking: 2,
  state: 3,
  pcp: 4,
  splats: 5,
  freed: 6,
  fallback: 7,
  lockedNs: 8,
} as const;

function metric(doc: RunDocument, id: string): number {
  const m = doc.metrics.find((x) => x.id === id);
  if (m === undefined) throw new Error(`no metric ${id}`);
  return m.value;
}

function row(
  doc: RunDocument,
  preempt: string,
  design: string,
  locking: string,
  state: string,
): readonly (string | number)[] {
  const r = doc.tables[0]!.rows.find(
    (x) =>
      x[COLS.preempt] === preempt &&
      x[COLS.design] === design &&
      x[COLS.locking] === locking &&
      x[COLS.state] === state,
  );
  if (r === undefined) throw new Error(`no row ${preempt} ${design} ${locking} ${state}`);
  return r;
}

describe('raw-lock-kfree-rcu: kfree_rcu() under a raw spinlock (seeds 000, 002)', () => {
  let doc: RunDocument;
  beforeAll(() => {
    doc = runScenario(rawLockKfreeRcuScenario, { small: true }).doc;
  }, 60_000);
  const EMPTY = 'pcp empty';
  const CONTENDED = 'pcp empty, zone->lock held by CPU 1';
  const STOCKED = 'pcp stocked';
  // Every (preempt, zone->lock discipline) pair but PREEMPT_RT with 2020
  // locking, whose per-CPU lists sit under the sleeping pa_lock.
  const OUTSIDE_RT_2020 = [
    ['full', '2020 (spin)'],
    ['full', 'trylock-first'],
    ['rt', 'trylock-first'],
  ] as const;

  it('is exported as the default and as a named export', () => {
    expect(rawLockDefault).toBe(rawLockKfreeRcuScenario);
    expect(rawLockKfreeRcuScenario.name).toBe('raw-lock-kfree-rcu');
    expect(rawLockKfreeRcuScenario.seeds).toEqual(['000', '002']);
  });

  it('reaches the seeds’ verdict', () => {
    expect(doc.verdict.ok).toBe(true);
    expect(doc.verdict.summary).toMatch(
      /naive-atomic-alloc: 7\/12 combinations print "BUG: Invalid wait context"/,
    );
    expect(doc.verdict.summary).toMatch(/batched: 0 splats in 12 combinations/);
  });

  it('boots every combination: 2 preemption models × 3 designs × 2 lockings × 3 allocator states', () => {
    expect(metric(doc, 'combinations')).toBe(36);
    expect(doc.tables[0]!.rows).toHaveLength(36);
    expect(new Set(doc.tables[0]!.rows.map((r) => r[COLS.preempt]))).toEqual(
      new Set(['rt', 'full']),
    );
  });

  it('on PREEMPT_RT with the 2020 locking, any allocation sleeps on pa_lock under a raw spinlock', () => {
    // The RT patchset's per-CPU list lock is a sleeping lock, stocked lists or not.
    for (const state of [STOCKED, EMPTY, CONTENDED]) {
      for (const design of ['naive-atomic-alloc', 'naive + __GFP_NO_LOCKS']) {
        const r = row(doc, 'rt', design, '2020 (spin)', state);
        expect(r[COLS.splats]).toContain('Invalid wait context');
        expect(r[COLS.splats]).toContain('sleeping function called from invalid context');
      }
    }
    const r = row(doc, 'rt', 'naive-atomic-alloc', '2020 (spin)', EMPTY);
    expect(r[COLS.pcp]).toBe(0);
    expect(r[COLS.fallback]).toContain('page allocated under krcp->lock');
    expect(doc.logLines.some((l) => l.includes('BUG: Invalid wait context'))).toBe(true);
    expect(doc.logLines.some((l) => l.includes('pa_lock.l'))).toBe(true);
    expect(doc.logLines.some((l) => l.includes('&krcp->lock'))).toBe(true);
  });

  it('on PREEMPT_RT a contended zone->lock blocks the naive caller: scheduling while atomic', () => {
    const r = row(doc, 'rt', 'naive-atomic-alloc', '2020 (spin)', CONTENDED);
    expect(r[COLS.splats]).toContain('scheduling while atomic');
    expect(
      row(doc, 'full', 'naive-atomic-alloc', '2020 (spin)', CONTENDED)[COLS.splats],
    ).not.toContain('scheduling while atomic');
  });

  it('off RT, PROVE_RAW_LOCK_NESTING still reports the nesting, but nothing sleeps', () => {
    const r = row(doc, 'full', 'naive-atomic-alloc', '2020 (spin)', EMPTY);
    expect(r[COLS.splats]).toBe('Invalid wait context');
  });

  it('with stocked per-CPU lists the naive design gets its page without zone->lock and no splat', () => {
    for (const [preempt, locking] of OUTSIDE_RT_2020) {
      const r = row(doc, preempt, 'naive-atomic-alloc', locking, STOCKED);
      expect(r[COLS.pcp]).toBeGreaterThan(0);
      expect(r[COLS.splats]).toBe('-');
    }
  });

  it('trylock-first hides the splat until zone->lock is contended', () => {
    for (const preempt of ['rt', 'full']) {
      expect(row(doc, preempt, 'naive-atomic-alloc', 'trylock-first', EMPTY)[COLS.splats]).toBe(
        '-',
      );
      const c = row(doc, preempt, 'naive-atomic-alloc', 'trylock-first', CONTENDED);
      expect(c[COLS.splats]).toContain('Invalid wait context');
      // The spin waits for CPU 1 to release zone->lock.
      expect(c[COLS.lockedNs]).toBeGreaterThan(100_000);
    }
  });

  it('__GFP_NO_LOCKS never splats outside RT-with-2020: it gets NULL and chains the rcu_head instead', () => {
    expect(metric(doc, 'no_locks_splats')).toBe(0);
    expect(metric(doc, 'no_locks_null_fallbacks')).toBe(8);
    for (const [preempt, locking] of OUTSIDE_RT_2020) {
      const r = row(doc, preempt, 'naive + __GFP_NO_LOCKS', locking, CONTENDED);
      expect(r[COLS.splats]).toBe('-');
      expect(r[COLS.fallback]).toMatch(/allocation NULL, rcu_head chained \(64\)/);
    }
  });

  it('batched never allocates under krcp->lock and never splats', () => {
    expect(metric(doc, 'batched_splats')).toBe(0);
    for (const r of doc.tables[0]!.rows.filter((x) => x[COLS.design] === 'batched')) {
      expect(r[COLS.splats]).toBe('-');
      expect(r[COLS.fallback]).toMatch(/no cached page, rcu_head chained/);
    }
  });

  it('frees every object in every combination', () => {
    expect(metric(doc, 'objects_not_freed')).toBe(0);
    for (const r of doc.tables[0]!.rows) expect(r[COLS.freed]).toBe('64/64');
  });

  it('the rcu_head-chain fallback costs about one cache miss per object, the array a fraction', () => {
    const chain = metric(doc, 'chain_free_misses_per_object');
    const array = metric(doc, 'array_free_misses_per_object');
    expect(chain).toBeGreaterThan(0.9);
    expect(array).toBeGreaterThan(0);
    expect(chain).toBeGreaterThan(4 * array);
    expect(metric(doc, 'chain_call_misses_per_object')).toBeGreaterThan(
      metric(doc, 'array_call_misses_per_object'),
    );
  });

  it('states its scale and keeps the boot-time reports out of the splat counts', () => {
    expect(doc.notes.join(' ')).toMatch(/64 objects/);
    expect(doc.reports.some((r) => r.kind === 'lockdep-invalid-wait-context')).toBe(true);
  });

  it('gives byte-identical JSON for the same seed', () => {
    const again = runScenario(rawLockKfreeRcuScenario, { small: true }).doc;
    expect(JSON.stringify(again)).toBe(JSON.stringify(doc));
  }, 60_000);

  it('takes the seed from the command line', () => {
    const other = runScenario(rawLockKfreeRcuScenario, { small: true, seed: 7 }).doc;
    expect(other.seed).toBe(7);
    expect(other.verdict.ok).toBe(true);
  }, 60_000);
});
