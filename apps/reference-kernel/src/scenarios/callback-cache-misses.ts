/**
 * `callback-cache-misses` (seed 000): RCU invoking callbacks walks a linked
 * list threaded through the `rcu_head`s, which the grace period has left
 * cache-cold — a miss per callback. kfree_rcu()'s batched design stores
 * pointers in page-sized arrays instead and frees them with `kfree_bulk()`.
 * The same stream of frees runs on a kernel booted with
 * `kfree_rcu=per-object` (one `call_rcu()` per object, `rcu_do_batch()`
 * walking the chain) and one with `kfree_rcu=batched` (`kfree_rcu_work()`
 * walking the arrays); misses per callback invoked are compared.
 */
import { missesOf } from '@sim/cpu';
import { GFP_KERNEL } from '@sim/gfp';
import type { Kernel } from '../kernel.js';
import {
  defineScenario,
  type Metric,
  type ScenarioContext,
  type ScenarioResult,
  type Series,
} from '../scenario.js';

/** Size of each freed object: two cache lines, so every `rcu_head` has a line of its own. */
const OBJ_SIZE = 128;
/** Where the `rcu_head` sits in the object. */
const RH_OFFSET = 16;
/** Sites RCU reads at free time: the callback chain, the pointer arrays, the fallback chain. */
const WALK_SITES = ['rcu.invoke', 'kvfree_rcu.bulk', 'kvfree_rcu.chain'] as const;
/** The seed's "most": the arrays must save at least half of the misses. */
const MOST = 2;

/** The workload: frees per CPU, in bursts, with other work between bursts. */
interface Stream {
  readonly perCpu: number;
  readonly burst: number;
  /** Bytes of a per-CPU buffer each updater reads between bursts ("other work"). */
  readonly workingSet: number;
  /** Sleep between bursts, ns. */
  readonly gapNs: number;
}

/** What one design measured on the stream. */
interface DesignResult {
  readonly design: 'per-object' | 'batched';
  readonly queued: number;
  readonly freed: number;
  readonly callRcuInvoked: number;
  readonly gracePeriods: number;
  /** Misses (DRAM + transfers) at each walk site. */
  readonly walkMisses: Readonly<Record<(typeof WALK_SITES)[number], number>>;
  /** Misses of the private caches (LLC hits included) at the walk sites. */
  readonly walkPrivateMisses: number;
  /** Misses at the slab's free-pointer site (shared with allocation). */
  readonly slabFreelistMisses: number;
  readonly pending: readonly (readonly [number, number])[];
  readonly problems: readonly string[];
}

function runStream(k: Kernel, s: Stream, sampleNs: number): DesignResult {
  const m = k.machine;
  const rcu = k.rcu;
  const slab = k.slab;
  const design = k.options.kfree_rcu as DesignResult['design'];
  const before = m.cache.siteStats();
  const gpBefore = rcu.stats().gpCompleted;
  const siteWork = m.siteId('workload.other');
  let finished = 0;
  let failures = 0;
  for (let c = 0; c < m.nrCpus; c++) {
    // Each CPU's "other work": a buffer read line by line between bursts.
    const buf = m.memory.memblockAlloc(s.workingSet, 64);
    m.spawn(
      function* updater() {
        for (let i = 0; i < s.perCpu; i++) {
          const obj = slab.kmalloc(OBJ_SIZE, GFP_KERNEL);
          if (obj === 0) {
            failures++;
            break;
          }
          m.store(obj + 64, i); // the object is initialised and used...
          rcu.kfreeRcu(obj, RH_OFFSET); // ...then retired
          if (i % s.burst === s.burst - 1) {
            for (let off = 0; off < s.workingSet; off += 64) m.load(buf + off, siteWork);
            yield m.sleep(s.gapNs);
          }
        }
        finished++;
      },
      { comm: `updater/${c}`, cpu: c, affinity: [c] },
    );
  }
  const pending: [number, number][] = [];
  const t0 = m.now();
  let t = t0;
  const limit = t0 + 600e9;
  for (;;) {
    t += sampleNs;
    m.run({ until: t });
    const kv = rcu.kvfreeStats();
    pending.push([t - t0, kv.pending]);
    if ((finished === m.nrCpus || failures > 0) && kv.pending === 0) break;
    if (t > limit) break;
  }
  const after = m.cache.siteStats();
  const walkMisses = { 'rcu.invoke': 0, 'kvfree_rcu.bulk': 0, 'kvfree_rcu.chain': 0 };
  let walkPrivateMisses = 0;
  let slabFreelistMisses = 0;
  for (let i = 0; i < after.length; i++) {
    const a = after[i]!;
    const b = before[i];
    const miss = missesOf(a) - (b === undefined ? 0 : missesOf(b));
    const priv =
      a.accesses - a.l1Hits - a.l2Hits - (b === undefined ? 0 : b.accesses - b.l1Hits - b.l2Hits);
    if ((WALK_SITES as readonly string[]).includes(a.label)) {
      walkMisses[a.label as keyof typeof walkMisses] = miss;
      walkPrivateMisses += priv;
    }
    if (a.label === 'slab.freelist') slabFreelistMisses = miss;
  }
  const st = rcu.stats();
  const problems: string[] = [];
  const expected = m.nrCpus * s.perCpu;
  if (failures > 0) problems.push(`${design}: kmalloc() failed`);
  if (st.kvfree.queued !== expected)
    problems.push(`${design}: ${st.kvfree.queued} of ${expected} objects queued`);
  if (st.kvfree.freed !== st.kvfree.queued)
    problems.push(`${design}: ${st.kvfree.queued - st.kvfree.freed} objects never freed`);
  const reports = k.reports();
  if (reports.length > 0)
    problems.push(
      `${design}: kernel reports (${[...new Set(reports.map((r) => r.kind))].join(', ')})`,
    );
  for (const p of k.checkInvariants()) problems.push(`${design}: ${p}`);
  return {
    design,
    queued: st.kvfree.queued,
    freed: st.kvfree.freed,
    callRcuInvoked: st.callbacksInvoked,
    gracePeriods: st.gpCompleted - gpBefore,
    walkMisses,
    walkPrivateMisses,
    slabFreelistMisses,
    pending,
    problems,
  };
}

function totalWalk(r: DesignResult): number {
  return (
    r.walkMisses['rcu.invoke'] + r.walkMisses['kvfree_rcu.bulk'] + r.walkMisses['kvfree_rcu.chain']
  );
}

function perCallback(r: DesignResult): number {
  return r.freed === 0 ? 0 : totalWalk(r) / r.freed;
}

/**
 * Seed 000: misses per callback invoked when RCU walks `rcu_head` lists
 * (`kfree_rcu=per-object`) against pointer arrays (`kfree_rcu=batched`),
 * for the same stream of frees.
 * @public
 */
export const callbackCacheMissesScenario = defineScenario({
  name: 'callback-cache-misses',
  title: 'rcu_head lists vs pointer arrays: cache misses per callback invoked (seed 000)',
  seeds: ['000'],
  // Caches scaled down with the stream, as in kfree-rcu-scale.
  defaultCmdline: 'cache.l1d=24K cache.l2=64K cache.llc=256K',
  run(ctx: ScenarioContext): ScenarioResult {
    const stream: Stream = ctx.small
      ? { perCpu: 1000, burst: 100, workingSet: 64 * 1024, gapNs: 20_000 }
      : { perCpu: 20000, burst: 100, workingSet: 64 * 1024, gapNs: 20_000 };
    const sampleNs = 500_000;
    const results: DesignResult[] = [];
    (['per-object', 'batched'] as const).forEach((design, i) => {
      const k = ctx.boot(`kfree_rcu=${design}`);
      results.push(runStream(k, stream, sampleNs));
      ctx.progress((i + 1) / 2);
    });
    const [lists, arrays] = results as [DesignResult, DesignResult];
    const listsPer = perCallback(lists);
    const arraysPer = perCallback(arrays);
    const ratio =
      arraysPer === 0 ? (listsPer === 0 ? 1 : Number.POSITIVE_INFINITY) : listsPer / arraysPer;
    const saved = listsPer === 0 ? 0 : 1 - arraysPer / listsPer;
    const problems = [...lists.problems, ...arrays.problems];
    const claimHolds = ratio >= MOST;
    const metrics: Metric[] = [
      {
        id: 'misses_per_callback_lists',
        label: 'misses per callback, rcu_head lists (kfree_rcu=per-object)',
        value: listsPer,
        unit: 'misses/callback',
        better: 'lower',
      },
      {
        id: 'misses_per_callback_arrays',
        label: 'misses per callback, pointer arrays (kfree_rcu=batched)',
        value: arraysPer,
        unit: 'misses/callback',
        better: 'lower',
      },
      {
        id: 'miss_ratio',
        label: 'lists / arrays misses per callback',
        value: Number.isFinite(ratio) ? ratio : 0,
        unit: 'x',
      },
      {
        id: 'misses_saved_pct',
        label: 'misses saved by pointer arrays',
        value: 100 * saved,
        unit: '%',
        better: 'higher',
      },
      {
        id: 'callbacks_invoked',
        label: 'callbacks (objects) per design',
        value: lists.freed,
        unit: '',
      },
    ];
    const row = (r: DesignResult) => [
      `kfree_rcu=${r.design}`,
      r.freed,
      r.callRcuInvoked,
      r.gracePeriods,
      r.walkMisses['rcu.invoke'],
      r.walkMisses['kvfree_rcu.bulk'],
      r.walkMisses['kvfree_rcu.chain'],
      perCallback(r),
      r.freed === 0 ? 0 : r.walkPrivateMisses / r.freed,
      r.freed === 0 ? 0 : r.slabFreelistMisses / r.freed,
    ];
    const series: Series[] = [
      {
        id: 'pending_lists',
        label: 'objects waiting, rcu_head lists',
        unit: '',
        points: lists.pending,
      },
      {
        id: 'pending_arrays',
        label: 'objects waiting, pointer arrays',
        unit: '',
        points: arrays.pending,
      },
    ];
    const ratioText = Number.isFinite(ratio) ? `${ratio.toFixed(1)}x` : 'all';
    const summary =
      problems.length > 0
        ? `the runs are not comparable: ${problems.join('; ')}`
        : claimHolds
          ? `pointer arrays save most misses: ${arraysPer.toFixed(3)} misses per callback against ${listsPer.toFixed(3)} walking rcu_head lists (${ratioText} fewer, ${(100 * saved).toFixed(0)}% saved)`
          : `pointer arrays do not save most misses here: ${arraysPer.toFixed(3)} misses per callback against ${listsPer.toFixed(3)} for rcu_head lists (${ratioText})`;
    return {
      verdict: { ok: problems.length === 0 && claimHolds, summary },
      metrics,
      tables: [
        {
          title: 'misses at free time, per design (DRAM + transfers unless noted)',
          columns: [
            'design',
            'objects freed',
            'call_rcu callbacks',
            'grace periods',
            'rcu.invoke',
            'kvfree_rcu.bulk',
            'kvfree_rcu.chain',
            'misses/callback',
            'private-cache misses/callback',
            'slab.freelist misses/object (alloc + free)',
          ],
          rows: [row(lists), row(arrays)],
        },
      ],
      series,
      notes: [
        `Stream: ${ctx.small ? 'test-suite scale, ' : ''}one updater per CPU freeing ${stream.perCpu} objects of ${OBJ_SIZE} bytes (kmalloc-${OBJ_SIZE}, rcu_head at offset ${RH_OFFSET}) with kfree_rcu(), in bursts of ${stream.burst}, reading a ${stream.workingSet / 1024} KB buffer and sleeping ${stream.gapNs / 1000} us between bursts; the same stream on both kernels.`,
        'The default command line shrinks the caches (cache.l1d=24K cache.l2=64K cache.llc=256K) in proportion to the stream, so that what waits for a grace period does not stay cached.',
        `A "callback" is one object freed: a call_rcu() callback invoked by rcu_do_batch() for per-object, one pointer of a kvfree_rcu_bulk_data array freed by kfree_rcu_work() for batched. Misses are DRAM misses plus cache-line transfers at ${WALK_SITES.join(', ')}; the slab's free-pointer write (slab.freelist) touches every object in both designs and is shown apart.`,
        `The verdict holds when the lists take at least ${MOST}x the misses of the arrays ("most" saved).`,
      ],
    };
  },
});

export default callbackCacheMissesScenario;
