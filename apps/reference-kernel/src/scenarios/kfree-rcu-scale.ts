/**
 * `kfree-rcu-scale`: rcuscale's kfree_rcu test (kernel/rcu/rcuscale.c,
 * `kfree_scale_thread()`), run on the simulated kernel with the kvfree_rcu
 * design chosen by `kfree_rcu=`. Each kfree'er thread allocates
 * `kfree_alloc_num` objects of `kfree_mult * sizeof(struct kfree_obj)` bytes
 * per loop and hands each to `kfree_rcu(p, rh)`, to the headless
 * `kvfree_rcu_mightsleep(p)`, or to `call_rcu()` with a callback that
 * `kfree()`s it, for `kfree_loops` loops; the last thread to finish prints
 * rcuscale's summary line.
 */
import { missesOf, type SiteStats } from '@sim/cpu';
import { GFP_KERNEL } from '@sim/gfp';
import type { Kernel } from '../kernel.js';
import {
  defineScenario,
  type Metric,
  type ResultTable,
  type ScenarioContext,
  type ScenarioResult,
  type Series,
} from '../scenario.js';

/** `sizeof(struct kfree_obj)`: `char kfree_obj[8]` then a 16-byte `struct rcu_head`. */
const KFREE_OBJ_SIZE = 24;
/** `offsetof(struct kfree_obj, rh)`. */
const KFREE_OBJ_RH = 8;
/** `MAX_NICE`: rcuscale runs its kfree'ers at nice 19 (kernel priority 139). */
const MAX_NICE_PRIO = 139;
/** Objects allocated between two `cond_resched()` points, so ticks and softirqs interleave. */
const RESCHED_EVERY = 64;
const MB = 1024 * 1024;
const PAGE_SHIFT = 12;

/**
 * Sites where memory is touched while objects are freed after their grace
 * period: the `rcu_head` chain walked by `rcu_do_batch()` (`rcu.invoke`),
 * kvfree_rcu's pointer arrays walked by `kfree_rcu_work()`
 * (`kvfree_rcu.bulk`) and its channel-3 `rcu_head` chain (`kvfree_rcu.chain`).
 */
const FREE_SITES = ['rcu.invoke', 'kvfree_rcu.bulk', 'kvfree_rcu.chain'] as const;

/** rcuscale's kfree_rcu module parameters. */
export interface KfreeScaleParams {
  /** `kfree_nthreads`: kfree'er threads; -1 means one per CPU (`compute_real()`). */
  readonly kfreeNthreads: number;
  /** `kfree_alloc_num`: allocations and frees per loop. */
  readonly kfreeAllocNum: number;
  /** `kfree_loops`: loops per thread. */
  readonly kfreeLoops: number;
  /** `kfree_mult`: object size multiplier. */
  readonly kfreeMult: number;
  /** `kfree_rcu_test_double`: test the two-argument `kfree_rcu(p, rh)`. */
  readonly kfreeRcuTestDouble: boolean;
  /** `kfree_rcu_test_single`: test the headless `kvfree_rcu_mightsleep(p)`. */
  readonly kfreeRcuTestSingle: boolean;
  /** `kfree_by_call_rcu`: `call_rcu()` with a callback that `kfree()`s. */
  readonly kfreeByCallRcu: boolean;
}

/** What one rcuscale kfree run measured. */
export interface KfreeScaleOutcome {
  /** rcuscale's summary line. */
  readonly line: string;
  /** `end_time - start_time` of the last kfree'er to finish, ns. */
  readonly totalTimeNs: number;
  /** rcuscale's `batches`: grace periods between the first start and the last end. */
  readonly batches: number;
  /** rcuscale's memory footprint: `(mem_begin - mem_during)` in MB (integer, as printed). */
  readonly footprintMbPrinted: number;
  /** Peak bytes held by objects waiting to be freed plus kvfree_rcu's pages. */
  readonly peakBytesHeld: number;
  /** Objects handed to RCU. */
  readonly objectsQueued: number;
  /** Objects freed after their grace period. */
  readonly objectsFreed: number;
  /** Grace periods completed from the start of the test until every object was freed. */
  readonly gracePeriodsToDrain: number;
  /** Virtual time at which the last object was freed, ns after the first kfree'er started. */
  readonly drainNs: number;
  /** Cache misses (DRAM + transfers) at the free-time sites, and per site. */
  readonly freeMisses: number;
  readonly siteMisses: readonly { label: string; accesses: number; misses: number }[];
  /** Headless calls that had to `synchronize_rcu()` inline. */
  readonly headlessInline: number;
  /** kmalloc() failures (rcuscale returns -ENOMEM). */
  readonly allocFailures: number;
  /** Samples of [ns since start, bytes held] and [ns since start, objects pending]. */
  readonly footprint: readonly (readonly [number, number])[];
  readonly pending: readonly (readonly [number, number])[];
  readonly gps: readonly (readonly [number, number])[];
}

/** `rcu_seq_diff()` (kernel/rcu/rcu.h): grace periods between two `gp_seq` values. */
function rcuSeqDiff(newer: number, older: number): number {
  if (newer === older) return 0;
  const mask = 3;
  const rnd = (newer & ~mask) - ((older + mask) & ~mask) + (newer & mask || older & mask ? 1 : 0);
  if (rnd <= mask) return 1;
  return ((rnd - mask - 1) >> 2) + 2;
}

function siteSnapshot(k: Kernel): readonly SiteStats[] {
  return k.machine.cache.siteStats();
}

/**
 * Run rcuscale's kfree_rcu test on a booted kernel and measure it.
 * `sampleNs` sets the interval of the footprint and pending series;
 * `onProgress` gets the fraction of allocations done.
 */
export function runKfreeScale(
  k: Kernel,
  p: KfreeScaleParams,
  sampleNs: number,
  onProgress: (f: number) => void = () => {},
): KfreeScaleOutcome {
  const m = k.machine;
  const rcu = k.rcu;
  const slab = k.slab;
  const nthreads =
    p.kfreeNthreads >= 0 ? p.kfreeNthreads : Math.max(1, m.nrCpus + 1 + p.kfreeNthreads);
  const size = p.kfreeMult * KFREE_OBJ_SIZE;
  const both = p.kfreeRcuTestSingle === p.kfreeRcuTestDouble;
  const onlySingle = p.kfreeRcuTestSingle && !p.kfreeRcuTestDouble;
  const total = nthreads * p.kfreeLoops * p.kfreeAllocNum;

  // kfree_call_rcu(): container_of() and kfree(), built-in text.
  let cbQueued = 0;
  let cbFreed = 0;
  let cbBytes = 0;
  const kfreeCallRcu = rcu.defineCallback('kfree_call_rcu', (head) => {
    const obj = head - KFREE_OBJ_RH;
    cbBytes -= slab.ksize(obj);
    cbFreed++;
    slab.kfree(obj);
  });

  const held = (): number => (p.kfreeByCallRcu ? cbBytes : rcu.kvfreeStats().bytesHeld);
  const pendingNow = (): number =>
    p.kfreeByCallRcu ? cbQueued - cbFreed : rcu.kvfreeStats().pending;

  let started = 0;
  let ended = 0;
  let done = 0;
  let allocFailures = 0;
  let gpStart = -1;
  let gpEnd = -1;
  let startTime = -1;
  let endTime = -1;
  let line = '';
  let footprintPages = 0;
  let peak = 0;
  const before = siteSnapshot(k);
  const gpCompletedBefore = rcu.stats().gpCompleted;

  for (let me = 0; me < nthreads; me++) {
    const cpu = me % m.nrCpus;
    m.spawn(
      function* kfree_scale_thread() {
        const rng = m.rng(`rcuscale.kfree.${me}`);
        const t0 = m.now();
        if (startTime < 0) startTime = t0;
        if (++started >= nthreads) gpStart = rcu.gpSeq;
        let memBegin = 0;
        let memDuring = 0;
        let loop = 0;
        do {
          if (memDuring === 0) {
            memBegin = k.pages.memAvailable();
            memDuring = memBegin;
          } else if (loop % Math.max(1, Math.floor(p.kfreeLoops / 4)) === 0) {
            memDuring = Math.floor((memDuring + k.pages.memAvailable()) / 2);
          }
          for (let i = 0; i < p.kfreeAllocNum; i++) {
            const obj = slab.kmalloc(size, GFP_KERNEL);
            if (obj === 0) {
              allocFailures++;
              return -12; // -ENOMEM
            }
            done++;
            if (p.kfreeByCallRcu) {
              cbQueued++;
              cbBytes += slab.ksize(obj);
              rcu.callRcu(obj + KFREE_OBJ_RH, kfreeCallRcu);
            } else if (onlySingle || (both && (rng.nextU32() & 0x800) !== 0)) {
              yield* rcu.kvfreeRcuMightsleep(obj);
            } else {
              rcu.kfreeRcu(obj, KFREE_OBJ_RH);
            }
            if (i % RESCHED_EVERY === RESCHED_EVERY - 1) {
              const h = held();
              if (h > peak) peak = h;
              yield m.condResched();
            }
          }
          yield m.condResched();
        } while (++loop < p.kfreeLoops);
        if (++ended >= nthreads) {
          endTime = m.now();
          gpEnd = rcu.gpSeq;
          footprintPages = memBegin - memDuring;
          const batches = rcuSeqDiff(gpEnd, gpStart);
          line = `Total time taken by all kfree'ers: ${endTime - t0} ns, loops: ${p.kfreeLoops}, batches: ${batches}, memory footprint: ${Math.floor(footprintPages / (1 << (20 - PAGE_SHIFT)))}MB`;
          m.printk('alert', line);
        }
        return 0;
      },
      { comm: 'kfree_scale_thr', cpu, affinity: [cpu], prio: MAX_NICE_PRIO, kthread: true },
    );
  }

  // Step the machine, sampling the footprint, until every kfree'er ended
  // and every object queued has been freed.
  const t0 = m.now();
  const footprint: [number, number][] = [];
  const pending: [number, number][] = [];
  const gps: [number, number][] = [];
  let t = t0;
  let drainNs = 0;
  const limit = t0 + 600e9;
  for (;;) {
    t += sampleNs;
    m.run({ until: t });
    const h = held();
    if (h > peak) peak = h;
    const pend = pendingNow();
    footprint.push([t - t0, h]);
    pending.push([t - t0, pend]);
    gps.push([t - t0, rcu.stats().gpCompleted - gpCompletedBefore]);
    onProgress(total === 0 ? 1 : done / total);
    const finished = ended >= nthreads || allocFailures > 0;
    if (finished && pend === 0) {
      drainNs = t - t0;
      break;
    }
    if (t > limit) break;
  }

  const after = siteSnapshot(k);
  const siteMisses: { label: string; accesses: number; misses: number }[] = [];
  let freeMisses = 0;
  for (let i = 0; i < after.length; i++) {
    const a = after[i]!;
    const b = before[i];
    const accesses = a.accesses - (b === undefined ? 0 : b.accesses);
    const misses = missesOf(a) - (b === undefined ? 0 : missesOf(b));
    if (accesses === 0) continue;
    siteMisses.push({ label: a.label, accesses, misses });
    if ((FREE_SITES as readonly string[]).includes(a.label)) freeMisses += misses;
  }
  const kv = rcu.kvfreeStats();
  return {
    line,
    totalTimeNs: endTime < 0 ? 0 : endTime - startTime,
    batches: gpEnd < 0 ? 0 : rcuSeqDiff(gpEnd, gpStart),
    footprintMbPrinted: Math.floor(footprintPages / (1 << (20 - PAGE_SHIFT))),
    peakBytesHeld: peak,
    objectsQueued: p.kfreeByCallRcu ? cbQueued : kv.queued,
    objectsFreed: p.kfreeByCallRcu ? cbFreed : kv.freed,
    gracePeriodsToDrain: rcu.stats().gpCompleted - gpCompletedBefore,
    drainNs,
    freeMisses,
    siteMisses,
    headlessInline: kv.headlessInline,
    allocFailures,
    footprint,
    pending,
    gps,
  };
}

/** @public */
export const kfreeRcuScaleScenario = defineScenario({
  name: 'kfree-rcu-scale',
  title:
    "rcuscale's kfree_rcu test: grace periods, cache misses, memory footprint and time of a kvfree_rcu design",
  seeds: ['000', '003'],
  run(ctx: ScenarioContext): ScenarioResult {
    const k = ctx.boot();
    const params: KfreeScaleParams = {
      kfreeNthreads: -1,
      kfreeAllocNum: ctx.small ? 500 : 8000,
      kfreeLoops: ctx.small ? 4 : 10,
      kfreeMult: 1,
      kfreeRcuTestDouble: true,
      kfreeRcuTestSingle: false,
      kfreeByCallRcu: false,
    };
    const o = runKfreeScale(k, params, 1_000_000, (f) => ctx.progress(f));
    const metrics: Metric[] = [
      { id: 'grace_periods', label: 'grace periods', value: o.batches, unit: '', better: 'lower' },
      {
        id: 'misses_per_object',
        label: 'cache misses per object freed',
        value: o.objectsFreed === 0 ? 0 : o.freeMisses / o.objectsFreed,
        unit: 'misses/object',
        better: 'lower',
      },
      {
        id: 'memory_footprint_mb',
        label: 'peak memory footprint',
        value: o.peakBytesHeld / MB,
        unit: 'MB',
        better: 'lower',
      },
      {
        id: 'total_time_ns',
        label: "total time of all kfree'ers",
        value: o.totalTimeNs,
        unit: 'ns',
        better: 'lower',
      },
      { id: 'objects_freed', label: 'objects freed', value: o.objectsFreed, unit: '' },
    ];
    const tables: ResultTable[] = [
      {
        title: 'cache behaviour by site',
        columns: ['site', 'accesses', 'misses'],
        rows: o.siteMisses.map((s) => [s.label, s.accesses, s.misses]),
      },
    ];
    const series: Series[] = [
      { id: 'memory_footprint', label: 'memory held', unit: 'bytes', points: o.footprint },
      { id: 'pending_objects', label: 'objects pending', unit: '', points: o.pending },
      { id: 'grace_periods', label: 'grace periods completed', unit: '', points: o.gps },
    ];
    return {
      verdict: {
        ok: true,
        summary: `${o.objectsFreed} freed, drain ${o.drainNs}, gp ${o.gracePeriodsToDrain}`,
      },
      metrics,
      tables,
      series,
      notes: [],
      logLines: [o.line],
    };
  },
});

export default kfreeRcuScaleScenario;
