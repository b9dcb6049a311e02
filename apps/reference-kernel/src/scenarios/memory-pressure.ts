/**
 * `memory-pressure` (seed 004): memory held near exhaustion while updaters
 * replace objects and free the old ones with the headless
 * `kvfree_rcu_mightsleep()`. When no pointer page can be had, the headless
 * form waits for a grace period inline (`synchronize_rcu()`) and frees the
 * object itself, which slows the updater down exactly when memory is short
 * (the chain reaction Paul worried about in the thread). The thread's answer
 * is a per-CPU cache of `rcu_min_cached_objs` pages; the scenario boots with
 * 0, 1 and 5 cached pages per CPU and counts the fallbacks.
 *
 * Pressure: a kernel thread holds pages taken from the reserves
 * (`__GFP_MEMALLOC`, as swap over the network does for its sockets) and
 * re-balances every jiffy to a target of free pages, in phases: no pressure,
 * free memory below the min watermark, between min and low, released. Below
 * min, kvfree_rcu's page allocation (`GFP_KERNEL | __GFP_NORETRY |
 * __GFP_NOMEMALLOC | __GFP_NOWARN`, mm/slab_common.c) fails after one round
 * of direct reclaim, without the OOM killer.
 */
import type { Machine, Wait } from '@sim/cpu';
import { __GFP_MEMALLOC, __GFP_NORETRY, __GFP_NOWARN, GFP_KERNEL } from '@sim/gfp';
import type { KvfreeRcuStats } from '@sim/rcu';
import type { Kernel } from '../kernel.js';
import {
  defineScenario,
  type Metric,
  type ResultTable,
  type Scenario,
  type ScenarioContext,
  type ScenarioResult,
  type Series,
} from '../scenario.js';

/** The `rcutree.rcu_min_cached_objs` values compared. */
const CACHE_SIZES = [0, 1, 5] as const;

/** Object size: kmalloc-128, without an rcu_head (what the headless form is for). */
const OBJ_SIZE = 128;
/** Objects each updater keeps published; one is replaced per update. */
const SLOTS = 64;
/** The updaters' allocation mask: NULL under pressure instead of the OOM killer. */
const GFP_UPDATE = GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN;
/** The pressure thread's mask: full access to the reserves. */
const GFP_PIN = GFP_KERNEL | __GFP_MEMALLOC | __GFP_NOWARN;
/** Order of the blocks the pressure thread takes while far above its target. */
const PIN_BULK_ORDER = 4;
/** Updates an updater makes per wake-up. */
const BURST = 8;
/** Virtual time per update between bursts (a burst sleeps `BURST * THINK_NS`). */
const THINK_NS = 20_000;
/** Back-off after a failed kmalloc. */
const ALLOC_RETRY_NS = 100_000;
/** The pressure thread re-balances once per jiffy; the sampler samples half a jiffy later. */
const TICK_NS = 1_000_000;

/** Zone watermarks in pages, without boost. */
interface Watermarks {
  readonly min: number;
  readonly low: number;
  readonly high: number;
}

/** A pressure phase: a target of free pages (null: hold nothing) and its relative length. */
interface Phase {
  readonly id: 'headroom' | 'below_min' | 'min_to_low' | 'released';
  readonly label: string;
  readonly weight: number;
  target(w: Watermarks): number | null;
}

const PHASES: readonly Phase[] = [
  { id: 'headroom', label: 'no pressure', weight: 2, target: () => null },
  {
    id: 'below_min',
    label: 'free below min',
    weight: 2,
    target: (w) => Math.floor(w.min / 2),
  },
  {
    id: 'min_to_low',
    label: 'free between min and low',
    weight: 1,
    target: (w) => Math.floor((w.min + w.low) / 2),
  },
  { id: 'released', label: 'pressure released', weight: 1, target: () => null },
];
const BELOW_MIN = PHASES.findIndex((p) => p.id === 'below_min');

/** What one phase of one boot measured. */
interface PhaseResult {
  readonly phase: Phase;
  readonly target: number | null;
  readonly updates: number;
  readonly kmallocFailures: number;
  readonly fallbacks: number;
  readonly fallbackNs: number;
  readonly fallbackMaxNs: number;
  readonly pagesAllocated: number;
  readonly pageAllocFailures: number;
  /** Pointer pages given back to the page allocator (drained from the cache, or the cache was full). */
  readonly pagesReturned: number;
  /** Objects the shrinkers were asked to scan (`slabs_scanned`). */
  readonly slabsScanned: number;
  readonly kswapdRuns: number;
  readonly allocStalls: number;
  readonly minFree: number;
  readonly peakBytesHeld: number;
}

/** One boot with one `rcu_min_cached_objs`. */
interface RunResult {
  readonly cached: number;
  /** Booted with `kfree_rcu.memalloc=1`: pointer pages may use the reserves. */
  readonly memalloc: boolean;
  readonly phases: readonly PhaseResult[];
  readonly final: KvfreeRcuStats;
  readonly updates: number;
  readonly oomKills: number;
  readonly allocFail: number;
  readonly allocStalls: number;
  readonly kswapdRuns: number;
  readonly peakBytesHeld: number;
  readonly peakPending: number;
  readonly pinnedPeak: number;
  readonly watermarks: Watermarks;
  readonly invariantProblems: readonly string[];
  readonly freeSeries: [number, number][];
  readonly pendingSeries: [number, number][];
  readonly cachedSeries: [number, number][];
  /** /proc/zoneinfo lines of the largest zone in the middle of the below-min phase. */
  readonly zoneinfo: readonly string[];
  readonly zoneName: string;
}

/** Watermarks of the zone with the most managed pages (the only one at the default size). */
function mainZone(k: Kernel): { name: string; w: Watermarks } {
  let best = k.pages.zones()[0]!;
  for (const z of k.pages.zones()) if (z.managed > best.managed) best = z;
  // ZoneInfo's marks include the boost; the phases aim at the unboosted ones.
  return {
    name: best.name,
    w: { min: best.min - best.boost, low: best.low - best.boost, high: best.high - best.boost },
  };
}

/** The zone's block of /proc/zoneinfo, its page counts and watermarks only. */
function zoneinfoLines(k: Kernel, zone: string): string[] {
  const lines = k.zoneinfo().split('\n');
  const at = lines.findIndex((l) => new RegExp(`^Node \\d+, zone\\s+${zone}$`).test(l));
  if (at < 0) return [];
  const out = [lines[at]!];
  for (let i = at + 1; i < lines.length && !lines[i]!.startsWith('Node '); i++) {
    if (/^\s+(pages free|boost|min|low|high|managed)\s/.test(lines[i]!)) out.push(lines[i]!);
  }
  return out;
}

/**
 * Run a sub-generator to its end from inside a task, noting whether it
 * waited: the headless kvfree_rcu() waits only when it falls back to
 * `synchronize_rcu()`.
 */
function* delegate(
  g: Generator<Wait<unknown>, void, unknown>,
  out: { waited: boolean },
): Generator<Wait<unknown>, void, unknown> {
  out.waited = false;
  let r = g.next();
  while (r.done !== true) {
    out.waited = true;
    const v: unknown = yield r.value;
    r = g.next(v);
  }
}

function runOne(
  ctx: ScenarioContext,
  cached: number,
  unitNs: number,
  progress: (f: number) => void,
): RunResult {
  const k = ctx.boot(`rcutree.rcu_min_cached_objs=${cached}`);
  const m: Machine = k.machine;
  const nr = k.options.nr_cpus;
  const zone = mainZone(k);
  const w = zone.w;
  const nPhases = PHASES.length;
  const startAt: number[] = [TICK_NS];
  for (const p of PHASES) startAt.push(startAt[startAt.length - 1]! + p.weight * unitNs);
  const start = startAt[0]!;
  const end = startAt[nPhases]!;
  const phaseAt = (t: number) => {
    let p = 0;
    while (p < nPhases - 1 && t >= startAt[p + 1]!) p++;
    return p;
  };
  const midBelowMin = (startAt[BELOW_MIN]! + startAt[BELOW_MIN + 1]!) / 2;

  const updates = new Float64Array(nPhases);
  const kmallocFailures = new Float64Array(nPhases);
  const fallbacks = new Float64Array(nPhases);
  const fallbackNs = new Float64Array(nPhases);
  const fallbackMax = new Float64Array(nPhases);
  // Counters at each phase boundary: kvfree_rcu's, then the page allocator's.
  const FAIL = 0;
  const ALLOCATED = 1;
  const HELD = 2;
  const SCANNED = 3;
  const KSWAPD = 4;
  const STALLS = 5;
  const NCOUNT = 6;
  const at = new Float64Array((nPhases + 1) * NCOUNT);
  const snapCounters = (b: number) => {
    const s = kvStats();
    const e = k.pages.events();
    const o = b * NCOUNT;
    at[o + FAIL] = s.pageAllocFailures;
    at[o + ALLOCATED] = s.pagesAllocated;
    at[o + HELD] = s.pagesInUse + s.pagesCached;
    at[o + SCANNED] = e.slabsScanned;
    at[o + KSWAPD] = e.pageoutrun;
    at[o + STALLS] = e.allocstall.reduce((x, y) => x + y, 0);
  };
  const delta = (p: number, i: number) => at[(p + 1) * NCOUNT + i]! - at[p * NCOUNT + i]!;
  const minFreePhase = new Float64Array(nPhases).fill(Number.POSITIVE_INFINITY);
  const peakHeldPhase = new Float64Array(nPhases);

  const kvStats = () => k.rcu.stats().kvfree;
  const freeSeries: [number, number][] = [];
  const pendingSeries: [number, number][] = [];
  const cachedSeries: [number, number][] = [];
  let zoneinfo: string[] = [];
  let peakBytesHeld = 0;
  let peakPending = 0;
  let pinnedPeak = 0;
  let stopped = false;
  let updatersLeft = nr;
  let final: KvfreeRcuStats | null = null;

  // The pressure thread: blocks from the reserves, on a stack.
  const pinned: number[] = [];
  const pinnedOrder: number[] = [];
  let pinnedPages = 0;
  const unpinOne = () => {
    const o = pinnedOrder.pop()!;
    k.pages.freePages(pinned.pop()!, o);
    pinnedPages -= 1 << o;
  };
  m.spawn(
    function* reserve_pin() {
      let last = -1;
      // On jiffy boundaries, so each phase starts with a re-balance.
      for (let tick = start; tick < end; tick += TICK_NS) {
        if (tick > m.now()) yield m.sleep(tick - m.now());
        const p = phaseAt(m.now());
        if (p !== last) {
          snapCounters(p);
          last = p;
        }
        const target = PHASES[p]!.target(w);
        if (target === null) {
          while (pinned.length > 0) unpinOne();
        } else {
          let free = k.pages.nrFreePages();
          while (free > target) {
            // Large blocks while far from the target, then single pages.
            const o = free - target >= 2 << PIN_BULK_ORDER ? PIN_BULK_ORDER : 0;
            const pfn = k.pages.allocPages(GFP_PIN, o);
            if (pfn < 0) break;
            pinned.push(pfn);
            pinnedOrder.push(o);
            pinnedPages += 1 << o;
            free = k.pages.nrFreePages();
          }
          while (free < target && pinned.length > 0) {
            unpinOne();
            free = k.pages.nrFreePages();
          }
        }
        if (pinnedPages > pinnedPeak) pinnedPeak = pinnedPages;
      }
      if (end > m.now()) yield m.sleep(end - m.now());
      snapCounters(nPhases);
      while (pinned.length > 0) unpinOne();
    },
    { comm: 'reserve_pin', cpu: nr - 1, kthread: true },
  );

  // Free memory, pending objects and cached pages, once per jiffy.
  m.spawn(
    function* sampler() {
      for (let tick = TICK_NS / 2; !stopped; tick += TICK_NS) {
        if (tick > m.now()) yield m.sleep(tick - m.now());
        const t = m.now();
        const s = kvStats();
        const free = k.pages.nrFreePages();
        freeSeries.push([t, free]);
        pendingSeries.push([t, s.pending]);
        cachedSeries.push([t, s.pagesCached]);
        if (s.bytesHeld > peakBytesHeld) peakBytesHeld = s.bytesHeld;
        if (s.pending > peakPending) peakPending = s.pending;
        if (t >= start && t < end) {
          const p = phaseAt(t);
          if (free < minFreePhase[p]!) minFreePhase[p] = free;
          if (s.bytesHeld > peakHeldPhase[p]!) peakHeldPhase[p] = s.bytesHeld;
          if (zoneinfo.length === 0 && t >= midBelowMin) zoneinfo = zoneinfoLines(k, zone.name);
        }
      }
    },
    { comm: 'sampler', cpu: 0, kthread: true },
  );

  // One updater per CPU: kmalloc a new object, publish it, free the old one headless.
  for (let c = 0; c < nr; c++) {
    m.spawn(
      function* updater() {
        const slots = new Float64Array(SLOTS);
        const out = { waited: false };
        let i = 0;
        yield m.sleep(start - m.now());
        while (m.now() < end) {
          let failed = false;
          for (let b = 0; b < BURST && m.now() < end; b++) {
            const p = phaseAt(m.now());
            const obj = k.slab.kmalloc(OBJ_SIZE, GFP_UPDATE);
            if (obj === 0) {
              kmallocFailures[p] = kmallocFailures[p]! + 1;
              failed = true;
              break;
            }
            const old = slots[i]!;
            slots[i] = obj;
            i = (i + 1) % SLOTS;
            if (old !== 0) {
              const t0 = m.now();
              yield* delegate(k.rcu.kvfreeRcuMightsleep(old), out);
              if (out.waited) {
                const dt = m.now() - t0;
                fallbacks[p] = fallbacks[p]! + 1;
                fallbackNs[p] = fallbackNs[p]! + dt;
                if (dt > fallbackMax[p]!) fallbackMax[p] = dt;
              }
            }
            updates[p] = updates[p]! + 1;
          }
          yield m.sleep(failed ? ALLOC_RETRY_NS : BURST * THINK_NS);
        }
        for (let j = 0; j < SLOTS; j++) {
          if (slots[j] !== 0) yield* k.rcu.kvfreeRcuMightsleep(slots[j]!);
        }
        updatersLeft--;
        if (updatersLeft === 0) {
          yield* k.rcu.kvfreeRcuBarrier();
          final = kvStats();
          stopped = true;
        }
      },
      { comm: `updater/${c}`, cpu: c, affinity: [c] },
    );
  }

  // Run in slices so progress can be shown; the drain after `end` is bounded.
  const horizon = end + 10 * (end - start);
  const slice = unitNs / 4;
  while (!stopped && m.now() < horizon) {
    k.run({ until: Math.min(horizon, m.now() + slice) });
    progress(Math.min(1, (m.now() - start) / (end - start)));
  }
  const fin = final as KvfreeRcuStats | null;
  if (fin === null) {
    throw new Error(`memory-pressure: the updaters on ${k.cmdline} did not finish`);
  }
  const ev = k.pages.events();
  const phases: PhaseResult[] = PHASES.map((phase, p) => ({
    phase,
    target: phase.target(w),
    updates: updates[p]!,
    kmallocFailures: kmallocFailures[p]!,
    fallbacks: fallbacks[p]!,
    fallbackNs: fallbackNs[p]!,
    fallbackMaxNs: fallbackMax[p]!,
    pagesAllocated: delta(p, ALLOCATED),
    pageAllocFailures: delta(p, FAIL),
    pagesReturned: delta(p, ALLOCATED) - delta(p, HELD),
    slabsScanned: delta(p, SCANNED),
    kswapdRuns: delta(p, KSWAPD),
    allocStalls: delta(p, STALLS),
    minFree: minFreePhase[p]!,
    peakBytesHeld: peakHeldPhase[p]!,
  }));
  return {
    cached,
    memalloc: k.options['kfree_rcu.memalloc'],
    phases,
    final: fin,
    updates: updates.reduce((a, b) => a + b, 0),
    oomKills: ev.oomKill,
    allocFail: ev.allocFail,
    allocStalls: ev.allocstall.reduce((a, b) => a + b, 0),
    kswapdRuns: ev.pageoutrun,
    peakBytesHeld,
    peakPending,
    pinnedPeak,
    watermarks: w,
    invariantProblems: k.checkInvariants(),
    freeSeries,
    pendingSeries,
    cachedSeries,
    zoneinfo,
    zoneName: zone.name,
  };
}

/**
 * kvfree_rcu_mightsleep() with memory held below the min watermark, booted
 * with 0, 1 and 5 cached pointer pages per CPU.
 */
export const memoryPressureScenario: Scenario = defineScenario({
  name: 'memory-pressure',
  title:
    'Memory held below the min watermark: does the per-CPU page cache keep kvfree_rcu_mightsleep() out of its inline synchronize_rcu()?',
  seeds: ['004'],
  defaultCmdline: 'nr_cpus=2 mem=32M cache.llc=4M',
  run(ctx) {
    // A phase of weight 1 lasts `unit`; see PHASES.
    const unitNs = ctx.small ? 12_000_000 : 100_000_000;
    const runs: RunResult[] = [];
    for (const n of CACHE_SIZES) {
      const done = runs.length;
      runs.push(runOne(ctx, n, unitNs, (f) => ctx.progress((done + f) / CACHE_SIZES.length)));
    }
    return summarise(runs, unitNs);
  },
});

export default memoryPressureScenario;

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Percentage of `n` in `d`, 0 when `d` is 0. */
function pct(n: number, d: number): number {
  return d === 0 ? 0 : round((100 * n) / d, 2);
}

function meanFallbackNs(p: PhaseResult): number {
  return p.fallbacks === 0 ? 0 : Math.round(p.fallbackNs / p.fallbacks);
}

function summarise(runs: readonly RunResult[], unitNs: number): ScenarioResult {
  const below = (r: RunResult) => r.phases[BELOW_MIN]!;
  const base = runs.find((r) => r.cached === 0)!;
  const cachedRuns = runs.filter((r) => r.cached > 0);
  const rate = (r: RunResult) => pct(below(r).fallbacks, below(r).updates);
  const sumPhases = (r: RunResult, f: (p: PhaseResult) => number) =>
    r.phases.reduce((s, p) => s + f(p), 0);

  // The pressure was real: with no cache, the pointer-page allocation failed.
  const pressureReal = below(base).pageAllocFailures > 0 && below(base).fallbacks > 0;
  const cacheHelps = cachedRuns.every((r) => rate(r) < rate(base));
  const avoids = cachedRuns.filter((r) => below(r).fallbacks === 0);
  const notFreed = runs.reduce((s, r) => s + (r.final.queued - r.final.freed), 0);
  const leaked = runs.reduce((s, r) => s + r.final.leaked, 0);
  const problems = runs.reduce((s, r) => s + r.invariantProblems.length, 0);
  const oomKills = runs.reduce((s, r) => s + r.oomKills, 0);
  // With the 2020 GFP_MEMALLOC RFC the pointer pages come from the reserves,
  // so the question becomes what that costs the reserves.
  const memalloc = runs.every((r) => r.memalloc);
  const noFallback = runs.every((r) => below(r).fallbacks === 0);
  const clean = notFreed === 0 && leaked === 0 && problems === 0;
  const ok = memalloc ? noFallback && clean : pressureReal && cacheHelps && clean;

  const perRun = runs
    .map((r) => {
      const b = below(r);
      return (
        `rcu_min_cached_objs=${r.cached}: ${b.fallbacks} inline synchronize_rcu() in ${b.updates} headless frees` +
        ` (${rate(r)}%, mean ${round(meanFallbackNs(b) / 1e6)} ms each)`
      );
    })
    .join('; ');
  // Why a cache that had pages still missed: pages it gave back below min.
  const largest = cachedRuns[cachedRuns.length - 1];
  const why =
    largest !== undefined && below(largest).pagesReturned > 0 && below(largest).slabsScanned > 0
      ? `: below min, with rcu_min_cached_objs=${largest.cached}, ${below(largest).pagesReturned} pointer pages went back to the page allocator while reclaim ran the shrinkers (${below(largest).kswapdRuns} kswapd runs, ${below(largest).allocStalls} direct reclaims) — the slab-kvfree-rcu shrinker drains the cache — so it was empty when a page filled`
      : '';
  const deepest = Math.min(...runs.map((r) => below(r).minFree));
  const answer = memalloc
    ? `with kfree_rcu.memalloc=1 the pointer pages come from the reserves below the min watermark (__GFP_MEMALLOC, the 2020 RFC), so ${noFallback ? 'no' : 'still some'} headless free fell back; free memory went down to ${deepest} pages against a min watermark of ${base.watermarks.min}`
    : !pressureReal
      ? 'the pressure did not make the pointer-page allocation fail, so the question is not answered'
      : avoids.length === cachedRuns.length
        ? 'the per-CPU page cache avoids the inline synchronize_rcu() under pressure'
        : cacheHelps
          ? `the per-CPU page cache reduces the inline synchronize_rcu() under pressure but does not avoid it${avoids.length > 0 ? ` except with ${avoids.map((r) => r.cached).join(', ')} cached pages` : ''}${why}`
          : 'the per-CPU page cache does not reduce the inline synchronize_rcu() under pressure';
  const summary =
    `With free memory held below the min watermark, ${perRun}; ${answer}.` +
    ` Updates completed below min: ${runs.map((r) => `${below(r).updates} (cache ${r.cached})`).join(', ')};` +
    ` ${oomKills} OOM kills; ${notFreed} objects not freed.`;

  const table: ResultTable = {
    title: 'Per boot and pressure phase (both CPUs)',
    columns: [
      'rcu_min_cached_objs',
      'phase',
      'target free pages',
      'min free pages',
      'updates',
      'kmalloc failures',
      'pointer pages allocated',
      'pointer page alloc failures',
      'pointer pages returned',
      'kswapd runs',
      'direct reclaims',
      'inline synchronize_rcu()',
      'fallback %',
      'mean fallback ns',
      'max fallback ns',
      'peak kvfree_rcu KB',
    ],
    rows: runs.flatMap((r) =>
      r.phases.map((p) => [
        r.cached,
        p.phase.label,
        p.target === null ? '-' : p.target,
        Number.isFinite(p.minFree) ? p.minFree : '-',
        p.updates,
        p.kmallocFailures,
        p.pagesAllocated,
        p.pageAllocFailures,
        p.pagesReturned,
        p.kswapdRuns,
        p.allocStalls,
        p.fallbacks,
        pct(p.fallbacks, p.updates),
        meanFallbackNs(p),
        p.fallbackMaxNs,
        round(p.peakBytesHeld / 1024, 1),
      ]),
    ),
  };
  const totals: ResultTable = {
    title: 'Per boot, whole run',
    columns: [
      'rcu_min_cached_objs',
      'updates',
      'objects queued',
      'objects freed',
      'pointer pages allocated',
      'pointer page alloc failures',
      'page allocations failed (all)',
      'direct reclaim stalls',
      'kswapd runs',
      'OOM kills',
      'peak pending objects',
      'peak kvfree_rcu KB',
      'peak pages pinned',
    ],
    rows: runs.map((r) => [
      r.cached,
      r.updates,
      r.final.queued,
      r.final.freed,
      r.final.pagesAllocated,
      r.final.pageAllocFailures,
      r.allocFail,
      r.allocStalls,
      r.kswapdRuns,
      r.oomKills,
      r.peakPending,
      round(r.peakBytesHeld / 1024, 1),
      r.pinnedPeak,
    ]),
  };

  const metrics: Metric[] = [];
  for (const r of runs) {
    const b = below(r);
    const id = (x: string) => `cache${r.cached}_${x}`;
    const lbl = (x: string) => `${x} (rcu_min_cached_objs=${r.cached})`;
    metrics.push(
      {
        id: id('sync_fallbacks_below_min'),
        label: lbl('Inline synchronize_rcu() fallbacks, free below min'),
        value: b.fallbacks,
        unit: '',
        better: 'lower',
      },
      {
        id: id('fallback_pct_below_min'),
        label: lbl('Headless frees that fell back, free below min'),
        value: rate(r),
        unit: '%',
        better: 'lower',
      },
      {
        id: id('sync_fallbacks'),
        label: lbl('Inline synchronize_rcu() fallbacks, whole run'),
        value: sumPhases(r, (p) => p.fallbacks),
        unit: '',
        better: 'lower',
      },
      {
        id: id('fallback_mean_ns'),
        label: lbl('Mean latency of a fallback kvfree_rcu_mightsleep()'),
        value:
          sumPhases(r, (p) => p.fallbacks) === 0
            ? 0
            : Math.round(sumPhases(r, (p) => p.fallbackNs) / sumPhases(r, (p) => p.fallbacks)),
        unit: 'ns',
        better: 'lower',
      },
      {
        id: id('fallback_max_ns'),
        label: lbl('Longest fallback kvfree_rcu_mightsleep()'),
        value: Math.max(...r.phases.map((p) => p.fallbackMaxNs)),
        unit: 'ns',
        better: 'lower',
      },
      {
        id: id('updates_below_min'),
        label: lbl('Updates completed, free below min'),
        value: b.updates,
        unit: '',
        better: 'higher',
      },
      {
        id: id('kmalloc_failures'),
        label: lbl('Updater kmalloc() failures'),
        value: sumPhases(r, (p) => p.kmallocFailures),
        unit: '',
        better: 'lower',
      },
      {
        id: id('pointer_page_alloc_failures'),
        label: lbl('kvfree_rcu pointer-page allocation failures'),
        value: r.final.pageAllocFailures,
        unit: '',
        better: 'lower',
      },
      {
        id: id('page_alloc_failures'),
        label: lbl('Page allocations that returned NULL (all callers)'),
        value: r.allocFail,
        unit: '',
        better: 'lower',
      },
      {
        id: id('oom_kills'),
        label: lbl('OOM kills'),
        value: r.oomKills,
        unit: '',
        better: 'lower',
      },
      {
        id: id('peak_footprint_kb'),
        label: lbl('Peak kvfree_rcu footprint (pointer pages and pending objects)'),
        value: round(r.peakBytesHeld / 1024, 1),
        unit: 'KB',
        better: 'lower',
      },
      {
        id: id('peak_pending'),
        label: lbl('Peak objects waiting for a grace period'),
        value: r.peakPending,
        unit: '',
      },
    );
  }
  metrics.push({
    id: 'objects_not_freed',
    label: 'Objects not freed at the end (all boots)',
    value: notFreed + leaked,
    unit: '',
    better: 'lower',
  });

  const series: Series[] = [];
  for (const r of runs) {
    series.push({
      id: `free_pages_cache${r.cached}`,
      label: `Free pages (rcu_min_cached_objs=${r.cached}; min ${r.watermarks.min}, low ${r.watermarks.low})`,
      unit: 'pages',
      points: r.freeSeries,
    });
  }
  for (const r of runs) {
    series.push({
      id: `pending_objects_cache${r.cached}`,
      label: `Objects waiting for a grace period (rcu_min_cached_objs=${r.cached})`,
      unit: '',
      points: r.pendingSeries,
    });
  }
  for (const r of runs) {
    if (r.cached === 0) continue;
    series.push({
      id: `cached_pages_cache${r.cached}`,
      label: `Pointer pages in the per-CPU caches (rcu_min_cached_objs=${r.cached})`,
      unit: 'pages',
      points: r.cachedSeries,
    });
  }

  const w = base.watermarks;
  const phaseMs = PHASES.map((p) => `${p.label} ${round((p.weight * unitNs) / 1e6, 1)} ms`);
  const notes = [
    `Scale: 3 kernels (rcu_min_cached_objs ${CACHE_SIZES.join(', ')}), each with one updater per CPU making bursts of ${BURST} updates every ${(BURST * THINK_NS) / 1000} µs: kmalloc(${OBJ_SIZE}) with GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN replacing one of ${SLOTS} live objects, then kvfree_rcu_mightsleep() of the object replaced (no RCU readers run, so a grace period is a few jiffies). Phases: ${phaseMs.join(', ')}; ${base.updates} updates with no cache, ${cachedRuns.map((r) => r.updates).join(' and ')} with one.`,
    `Pressure: a kernel thread allocates with GFP_KERNEL | __GFP_MEMALLOC (no watermarks) and frees back, once per jiffy, to hold the zone's free pages at a target: half the min watermark (${Math.floor(w.min / 2)} of min ${w.min}, low ${w.low}, high ${w.high} pages), then half-way between min and low, then it releases everything. Pages on the per-CPU lists are not counted as free, as in the kernel.`,
    "kvfree_rcu allocates its pointer pages with GFP_KERNEL | __GFP_NORETRY | __GFP_NOMEMALLOC | __GFP_NOWARN (the headless form may sleep): below min this fails after one direct-reclaim round, without the OOM killer, and the object is freed after an inline synchronize_rcu(). A fallback is a kvfree_rcu_mightsleep() call that waited; its latency includes the failed allocation's reclaim.",
    'Seed 004 also weighs the April 2020 RFC that allocated these pages with __GFP_MEMALLOC instead: run with --cmdline "kfree_rcu.memalloc=1" to boot it; the pages then come from the reserves below min and the verdict reports how deep free memory went.',
    'The per-CPU cache starts empty and fills from pointer pages recycled after their batch is freed (put_cached_bnode()) or from fill_page_cache_func() after a miss; the slab-kvfree-rcu shrinker run by kswapd and direct reclaim drains it and makes the refill back off for rcu_delay_page_cache_fill_msec, as in mm/slab_common.c.',
    "Reclaim counts as a shrinker's progress only the slab pages freed through mm_account_reclaimed_pages(), as the kernel's reclaim_state does: the pointer pages the slab-kvfree-rcu shrinker drains from its cache with free_page() are not counted.",
    `"fallback %" is of the phase's updates, each of which frees one object; an updater whose kmalloc() fails (the slab needs a page while objects wait for their grace period) backs off ${ALLOC_RETRY_NS / 1000} µs. The log lines are /proc/zoneinfo's ${base.zoneName} zone in the middle of the below-min phase of the boot without a cache.`,
  ];

  const logLines = [...base.zoneinfo];
  return {
    verdict: { ok, summary },
    metrics,
    tables: [table, totals],
    series,
    notes,
    logLines,
  };
}
