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
import { rcuSeqCtr } from '@sim/rcu';
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

/** rcuscale's kfree_rcu module parameters (`rcuscale.kfree_*`). @public */
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

/** What one run of rcuscale's kfree_rcu test (`kfree_scale_thread()` on every thread) measured. @public */
export interface KfreeScaleOutcome {
  /** rcuscale's summary line. */
  readonly line: string;
  /** `end_time - start_time` of the last kfree'er to finish, ns. */
  readonly totalTimeNs: number;
  /** rcuscale's `batches`: grace periods from the last kfree'er's start to the last one's end. */
  readonly batches: number;
  /** rcuscale's memory footprint: `(mem_begin - mem_during)` in MB (integer, as printed). */
  readonly footprintMbPrinted: number;
  /** Peak bytes held by objects waiting to be freed plus kvfree_rcu's pages. */
  readonly peakBytesHeld: number;
  /** kfree'er threads run. */
  readonly threads: number;
  /** Objects the threads were to allocate and free (`threads * kfree_loops * kfree_alloc_num`). */
  readonly objectsExpected: number;
  /** Objects handed to RCU. */
  readonly objectsQueued: number;
  /** Objects freed after their grace period. */
  readonly objectsFreed: number;
  /** Grace periods completed from the start of the test until every object was freed. */
  readonly gracePeriodsToDrain: number;
  /** Virtual time until every object was freed, ns from the threads' spawn (at the sampling interval). */
  readonly drainNs: number;
  /** Cache misses (DRAM + transfers) at the free-time sites. */
  readonly freeMisses: number;
  /** Accesses and misses (DRAM + transfers) of every site touched during the run. */
  readonly siteMisses: readonly { label: string; accesses: number; misses: number }[];
  /** Headless calls that had to `synchronize_rcu()` inline. */
  readonly headlessInline: number;
  /** kmalloc() failures (rcuscale returns -ENOMEM). */
  readonly allocFailures: number;
  /** Samples of [ns since spawn, bytes held]. */
  readonly footprint: readonly (readonly [number, number])[];
  /** Samples of [ns since spawn, objects waiting to be freed]. */
  readonly pending: readonly (readonly [number, number])[];
  /** Samples of [ns since spawn, grace periods completed]. */
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
 * Run rcuscale's kfree_rcu test (`kfree_scale_init()` spawning
 * `kfree_scale_thread()` per thread) on a booted kernel and measure it.
 * `sampleNs` sets the interval of the footprint and pending series;
 * `onProgress` gets the fraction of allocations done.
 * @public
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
  const kfreeCallRcu = p.kfreeByCallRcu
    ? rcu.defineCallback('kfree_call_rcu', (head) => {
        const obj = head - KFREE_OBJ_RH;
        cbBytes -= slab.ksize(obj);
        cbFreed++;
        slab.kfree(obj);
      })
    : null;

  const held = (): number => (p.kfreeByCallRcu ? cbBytes : rcu.kvfreeStats().bytesHeld);
  const pendingNow = (): number =>
    p.kfreeByCallRcu ? cbQueued - cbFreed : rcu.kvfreeStats().pending;

  let started = 0;
  let ended = 0;
  let done = 0;
  let allocFailures = 0;
  let gpStart = -1;
  let gpEnd = -1;
  let totalTimeNs = 0;
  let line = '';
  let footprintPages = 0;
  let peak = 0;
  const before = siteSnapshot(k);
  const gpCompletedBefore = rcu.stats().gpCompleted;
  const gpCtrBefore = rcuSeqCtr(rcu.gpSeq);

  for (let me = 0; me < nthreads; me++) {
    const cpu = me % m.nrCpus;
    m.spawn(
      function* kfree_scale_thread() {
        const rng = m.rng(`rcuscale.kfree.${me}`);
        // ktime_get_mono_fast_ns() on this thread's CPU.
        const t0 = m.now();
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
              rcu.callRcu(obj + KFREE_OBJ_RH, kfreeCallRcu!);
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
          totalTimeNs = m.now() - t0;
          gpEnd = rcu.gpSeq;
          footprintPages = memBegin - memDuring;
          const batches = rcuSeqDiff(gpEnd, gpStart);
          line = `Total time taken by all kfree'ers: ${totalTimeNs} ns, loops: ${p.kfreeLoops}, batches: ${batches}, memory footprint: ${Math.floor(footprintPages / (1 << (20 - PAGE_SHIFT)))}MB`;
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
    gps.push([t - t0, rcuSeqCtr(rcu.gpSeq) - gpCtrBefore]);
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
    totalTimeNs,
    batches: gpEnd < 0 ? 0 : rcuSeqDiff(gpEnd, gpStart),
    footprintMbPrinted: Math.floor(footprintPages / (1 << (20 - PAGE_SHIFT))),
    peakBytesHeld: peak,
    threads: nthreads,
    objectsExpected: total,
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

/** The scale of the main run (rcuscale's defaults) and of the variant runs. */
function scaleOf(small: boolean): {
  main: KfreeScaleParams;
  variants: readonly { name: string; params: KfreeScaleParams }[];
} {
  const main: KfreeScaleParams = {
    kfreeNthreads: -1,
    kfreeAllocNum: small ? 1000 : 4000,
    kfreeLoops: small ? 3 : 10,
    kfreeMult: 1,
    kfreeRcuTestDouble: true,
    kfreeRcuTestSingle: false,
    kfreeByCallRcu: false,
  };
  // The headless form may wait for a grace period per object (always, for
  // per-object), so the variants run a few hundred objects per thread.
  const v = { ...main, kfreeAllocNum: small ? 20 : 100, kfreeLoops: 2 };
  return {
    main,
    variants: [
      {
        name: 'single (kvfree_rcu_mightsleep)',
        params: { ...v, kfreeRcuTestDouble: false, kfreeRcuTestSingle: true },
      },
      {
        name: 'both, chosen at random',
        params: { ...v, kfreeRcuTestDouble: false, kfreeRcuTestSingle: false },
      },
      { name: 'kfree_by_call_rcu', params: { ...v, kfreeByCallRcu: true } },
    ],
  };
}

/** rcuscale's start-of-test line (`kfree_scale_init()`), and the object-size line. */
function paramLines(p: KfreeScaleParams): string[] {
  const b = (x: boolean) => (x ? 1 : 0);
  return [
    `rcu-scale:--- kfree_rcu_test: kfree_mult=${p.kfreeMult} kfree_by_call_rcu=${b(p.kfreeByCallRcu)} kfree_nthreads=${p.kfreeNthreads} kfree_alloc_num=${p.kfreeAllocNum} kfree_loops=${p.kfreeLoops} kfree_rcu_test_double=${b(p.kfreeRcuTestDouble)} kfree_rcu_test_single=${b(p.kfreeRcuTestSingle)}`,
    `kfree object size=${p.kfreeMult * KFREE_OBJ_SIZE}, kfree_by_call_rcu=${b(p.kfreeByCallRcu)}`,
  ];
}

/** Problems that make a run's result untrustworthy: lost objects, diagnostics, broken invariants. */
function problemsOf(k: Kernel, o: KfreeScaleOutcome, what: string): string[] {
  const out: string[] = [];
  if (o.allocFailures > 0) out.push(`${what}: kmalloc() failed ${o.allocFailures} times (-ENOMEM)`);
  if (o.objectsQueued !== o.objectsExpected)
    out.push(`${what}: ${o.objectsQueued} of ${o.objectsExpected} objects queued`);
  if (o.objectsFreed !== o.objectsQueued)
    out.push(
      `${what}: ${o.objectsQueued - o.objectsFreed} of ${o.objectsQueued} objects never freed`,
    );
  if (o.line === '') out.push(`${what}: the kfree'ers did not finish`);
  const reports = k.reports();
  if (reports.length > 0)
    out.push(
      `${what}: ${reports.length} kernel reports (${[...new Set(reports.map((r) => r.kind))].join(', ')})`,
    );
  for (const p of k.checkInvariants()) out.push(`${what}: ${p}`);
  return out;
}

/**
 * rcuscale's kfree_rcu test on the design selected by `kfree_rcu=`:
 * grace periods, cache misses per object freed, memory footprint, time.
 * @public
 */
export const kfreeRcuScaleScenario = defineScenario({
  name: 'kfree-rcu-scale',
  title:
    "rcuscale's kfree_rcu test: grace periods, cache misses per object, memory footprint and time of a kvfree_rcu design",
  seeds: ['000', '003'],
  // Caches scaled down with the workload (see notes), so that what waits for
  // a grace period no longer fits in them, as on a machine running rcuscale
  // for 10000 loops next to other work.
  defaultCmdline: 'cache.l1d=24K cache.l2=64K cache.llc=256K',
  run(ctx: ScenarioContext): ScenarioResult {
    const scale = scaleOf(ctx.small);
    const k = ctx.boot();
    const design = k.options.kfree_rcu;
    const sampleNs = ctx.small ? 100_000 : 250_000;
    const o = runKfreeScale(k, scale.main, sampleNs, (f) => ctx.progress(0.8 * f));
    const problems = problemsOf(k, o, 'main run');

    const variantRows: (string | number)[][] = [];
    const variantLines: string[] = [];
    scale.variants.forEach((v, i) => {
      const kv = ctx.boot();
      const ov = runKfreeScale(kv, v.params, 20_000_000, (f) =>
        ctx.progress(0.8 + (0.2 * (i + f)) / scale.variants.length),
      );
      problems.push(...problemsOf(kv, ov, v.name));
      variantLines.push(...paramLines(v.params), ov.line);
      variantRows.push([
        v.name,
        ov.objectsFreed,
        ov.totalTimeNs,
        ov.batches,
        ov.gracePeriodsToDrain,
        ov.headlessInline,
        ov.peakBytesHeld / MB,
      ]);
    });
    ctx.progress(1);

    const missesPerObject = o.objectsFreed === 0 ? 0 : o.freeMisses / o.objectsFreed;
    const gpPer1000 = o.objectsFreed === 0 ? 0 : (o.gracePeriodsToDrain * 1000) / o.objectsFreed;
    const metrics: Metric[] = [
      {
        id: 'grace_periods',
        label: 'grace periods until every object was freed',
        value: o.gracePeriodsToDrain,
        unit: '',
        better: 'lower',
      },
      {
        id: 'rcuscale_batches',
        label: "grace periods while the kfree'ers ran (rcuscale batches)",
        value: o.batches,
        unit: '',
      },
      {
        id: 'misses_per_object',
        label: 'cache misses per object freed (rcu_head chain / pointer arrays)',
        value: missesPerObject,
        unit: 'misses/object',
        better: 'lower',
      },
      {
        id: 'memory_footprint_mb',
        label: 'peak memory waiting to be freed (objects + kvfree_rcu pages)',
        value: o.peakBytesHeld / MB,
        unit: 'MB',
        better: 'lower',
      },
      {
        id: 'total_time_ns',
        label: "total time taken by all kfree'ers",
        value: o.totalTimeNs,
        unit: 'ns',
        better: 'lower',
      },
      {
        id: 'drain_time_ns',
        label: 'time until every object was freed',
        value: o.drainNs,
        unit: 'ns',
        better: 'lower',
      },
      { id: 'objects_freed', label: 'objects freed', value: o.objectsFreed, unit: '' },
    ];
    const tables: ResultTable[] = [
      {
        title: `cache misses by site, main run (DRAM + transfers; free-time sites: ${FREE_SITES.join(', ')})`,
        columns: ['site', 'accesses', 'misses', 'misses/object'],
        rows: o.siteMisses.map((s) => [
          s.label,
          s.accesses,
          s.misses,
          o.objectsFreed === 0 ? 0 : s.misses / o.objectsFreed,
        ]),
      },
      {
        title: `variants on kfree_rcu=${design} (${scale.variants[0]!.params.kfreeAllocNum} objects x ${scale.variants[0]!.params.kfreeLoops} loops per thread)`,
        columns: [
          'variant',
          'objects freed',
          'kfree time (ns)',
          'batches',
          'GPs to drain',
          'inline synchronize_rcu',
          'peak held (MB)',
        ],
        rows: variantRows,
      },
    ];
    const toMb = (pts: readonly (readonly [number, number])[]) =>
      pts.map(([t, v]) => [t, v / MB] as const);
    const series: Series[] = [
      {
        id: 'memory_footprint',
        label: 'memory waiting to be freed',
        unit: 'MB',
        points: toMb(o.footprint),
      },
      { id: 'pending_objects', label: 'objects waiting to be freed', unit: '', points: o.pending },
      { id: 'grace_periods_completed', label: 'grace periods completed', unit: '', points: o.gps },
    ];
    const threads = o.threads;
    const summary =
      problems.length > 0
        ? `kfree_rcu=${design}: ${problems.join('; ')}`
        : `kfree_rcu=${design}: ${o.objectsFreed} objects freed after ${o.gracePeriodsToDrain} grace periods (${gpPer1000.toFixed(3)} per 1000 frees), ${missesPerObject.toFixed(3)} cache misses per object at free time, peak ${(o.peakBytesHeld / MB).toFixed(2)} MB waiting; kfree'ers took ${o.totalTimeNs} ns`;
    return {
      verdict: { ok: problems.length === 0, summary },
      metrics,
      tables,
      series,
      notes: [
        `Main run: ${threads} kfree'er threads (kfree_nthreads=-1 on nr_cpus=${threads}), kfree_alloc_num=${scale.main.kfreeAllocNum}, kfree_loops=${scale.main.kfreeLoops}, kfree_mult=1 (24-byte objects from kmalloc-32), the two-argument kfree_rcu(p, rh) only (kfree_rcu_test_double=1): ${threads * scale.main.kfreeAllocNum * scale.main.kfreeLoops} objects. rcuscale's defaults are kfree_alloc_num=8000 and kfree_loops=10; the kernel's kvm.sh kfree runs use kfree_loops=10000 on 16 CPUs.`,
        'The rcuscale knobs are not boot parameters of this kernel, so they are fixed here (smaller in the test suite); kfree_rcu= selects the design.',
        'The default command line shrinks the caches (cache.l1d=24K cache.l2=64K cache.llc=256K) in proportion to the workload: with the default 32 MB LLC the few MB waiting for a grace period would stay cached and no design would miss.',
        `misses_per_object counts DRAM misses plus cache-line transfers at the sites RCU walks when it frees (${FREE_SITES.join(', ')}), divided by objects freed; the slab's own free-pointer writes (site slab.freelist) are shared with allocation and shown only in the site table.`,
        `memory_footprint_mb is the peak of kvfree_rcu's bytes held (pending objects by ksize() plus pointer pages in use and cached), sampled every ${RESCHED_EVERY} objects in each kfree'er and every ${sampleNs / 1000} us; the summary line's footprint is rcuscale's own (si_mem_available() at the start minus its running average), in whole MB.`,
        'grace_periods counts normal grace periods completed from the start of the test until the last object was freed (drain detected at the sampling interval); rcuscale_batches is the summary line\'s "batches" (only while the kfree\'ers ran).',
        'Variants run smaller: the headless kvfree_rcu_mightsleep() waits for a grace period inline whenever no page is at hand (for every object with kfree_rcu=per-object or offset-2008). kfree_by_call_rcu queues ordinary call_rcu() callbacks: the kernel requires CONFIG_RCU_LAZY for it, and lazy callbacks are not modelled.',
      ],
      logLines: [...paramLines(scale.main), o.line, ...variantLines],
    };
  },
});

export default kfreeRcuScaleScenario;
