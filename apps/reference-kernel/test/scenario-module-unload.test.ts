import { describe, expect, it } from 'vitest';
import type { RunDocument } from '../src/report/result.js';
import { runScenario } from '../src/runner.js';
import moduleUnloadDefault, { moduleUnloadScenario } from '../src/scenarios/module-unload.js';

function metric(doc: RunDocument, id: string): number {
  const m = doc.metrics.find((x) => x.id === id);
  if (m === undefined) throw new Error(`no metric ${id}`);
  return m.value;
}

function run(opts: { cmdline?: string; seed?: number } = {}): RunDocument {
  return runScenario(moduleUnloadScenario, { small: true, ...opts }).doc;
}

describe('module-unload (seed 003): rcu_barrier() before freeing module text', {
  timeout: 60_000,
}, () => {
  const doc = run();
  const table = doc.tables[0]!;
  const row = (name: string) => {
    const r = table.rows.find((x) => x[0] === name);
    if (r === undefined) throw new Error(`no case ${name}`);
    return (column: string) => r[table.columns.indexOf(column)];
  };

  it('is exported both as the default and by name', () => {
    expect(moduleUnloadDefault).toBe(moduleUnloadScenario);
    expect(moduleUnloadScenario.name).toBe('module-unload');
    expect(moduleUnloadScenario.seeds).toEqual(['003']);
  });

  it('without rcu_barrier(), every callback still pending when the text is freed Oopses', () => {
    const c = row('call_rcu(), no rcu_barrier()');
    // 4 CPUs x 25 objects, unloaded before their grace period ends.
    expect(c('objects')).toBe(100);
    expect(c('pending at unload')).toBe(100);
    expect(c('Oopses')).toBe(100);
    expect(c('freed')).toBe(0);
    expect(metric(doc, 'oops_without_barrier')).toBe(100);
    const oops = doc.reports.filter((r) => r.kind === 'oops');
    expect(oops.length).toBe(metric(doc, 'callbacks_lost'));
    expect(oops[0]!.title).toBe('BUG: unable to handle page fault for address: ffffffffc0200000');
    expect(doc.reports.every((r) => r.kind === 'oops')).toBe(true);
  });

  it('synchronize_rcu() is not rcu_barrier(): it Oopses when a CPU has not invoked its callbacks yet', () => {
    expect(row('call_rcu(), synchronize_rcu() instead')('Oopses')).toBe(0);
    const busy = row(
      'call_rcu(), synchronize_rcu() instead, a CPU busy (PREEMPT_RT: rcuc starved)',
    );
    expect(busy('pending at unload')).toBe(25); // the busy CPU's share
    expect(busy('Oopses')).toBe(25);
    expect(busy('freed')).toBe(75);
    expect(metric(doc, 'oops_after_synchronize_rcu_busy_cpu')).toBe(25);
  });

  it('rcu_barrier() in the exit path prevents it, busy CPU or not, and its cost is measured', () => {
    for (const name of [
      'call_rcu(), rcu_barrier()',
      'call_rcu(), rcu_barrier(), a CPU busy (PREEMPT_RT: rcuc starved)',
    ]) {
      const c = row(name);
      expect(c('Oopses')).toBe(0);
      expect(c('freed')).toBe(100);
      expect(c('pending at unload')).toBe(0);
    }
    expect(metric(doc, 'oops_with_barrier')).toBe(0);
    expect(metric(doc, 'rcu_barrier_ns')).toBeGreaterThan(0);
    // Waiting for the busy CPU's callbacks takes at least its 50 ms.
    expect(metric(doc, 'rcu_barrier_busy_cpu_ns')).toBeGreaterThan(50e6);
  });

  it('2008: a module whose only callbacks are kfree_rcu() needs no barrier', () => {
    for (const design of ['batched', 'offset-2008']) {
      const c = row(`kfree_rcu() only (kfree_rcu=${design}), no barrier`);
      expect(c('Oopses')).toBe(0);
      expect(c('freed')).toBe(100);
    }
    expect(metric(doc, 'oops_kfree_rcu_only')).toBe(0);
    const perObject = run({ cmdline: 'kfree_rcu=per-object' });
    expect(perObject.tables[0]!.rows.map((r) => r[0])).toContain(
      'kfree_rcu() only (kfree_rcu=per-object), no barrier',
    );
    expect(metric(perObject, 'oops_kfree_rcu_only')).toBe(0);
    expect(perObject.verdict.ok).toBe(true);
  });

  it('the verdict: the Oops appears exactly where the kernel would have one', () => {
    expect(doc.verdict.ok).toBe(true);
    expect(doc.verdict.summary).toMatch(
      /^Oops exactly where the kernel has one: 100 for 100 callbacks/,
    );
    for (const r of table.rows) {
      const expected = r[table.columns.indexOf('expected Oops')];
      const oopses = r[table.columns.indexOf('Oopses')] as number;
      expect(oopses > 0).toBe(expected === 'yes');
    }
  });

  it('is deterministic: the same seed gives byte-identical JSON', () => {
    expect(JSON.stringify(run({ seed: 5 }))).toBe(JSON.stringify(run({ seed: 5 })));
  });
});
