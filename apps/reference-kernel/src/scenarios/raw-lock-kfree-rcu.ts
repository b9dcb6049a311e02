/**
 * `raw-lock-kfree-rcu` (seeds 000 and 002): kfree_rcu() called with a
 * raw_spinlock_t held, on PREEMPT_RT and on a non-RT kernel, for the design
 * that allocates its pointer page right there with GFP_ATOMIC, the same with
 * the never-merged `__GFP_NO_LOCKS`, and today's batched design that never
 * allocates under `krcp->lock`; each with the page allocator's 2020 locking
 * (`zone->lock` always taken with spin_lock_irqsave()) and today's
 * trylock-first locking, with the per-CPU page lists stocked, empty, and
 * empty while another CPU holds `zone->lock`.
 */
import type { CacheCounters, Machine, ReportRecord, SiteStats } from '@sim/cpu';
import { Completion } from '@sim/cpu';
import { GFP_KERNEL } from '@sim/gfp';
import type { KvfreeRcuStats } from '@sim/rcu';
import { parseCmdline } from '../cmdline.js';
import {
  defineScenario,
  type Metric,
  type ResultTable,
  type Scenario,
  type ScenarioContext,
} from '../scenario.js';

/** A kfree_rcu() design as booted: `kfree_rcu=` plus `kfree_rcu.no_locks=`. */
interface Design {
  readonly id: 'naive' | 'no-locks' | 'batched';
  readonly label: string;
  readonly cmdline: string;
}

const DESIGNS: readonly Design[] = [
  {
    id: 'naive',
    label: 'naive-atomic-alloc',
    cmdline: 'kfree_rcu=naive-atomic-alloc kfree_rcu.no_locks=0',
  },
  {
    id: 'no-locks',
    label: 'naive + __GFP_NO_LOCKS',
    cmdline: 'kfree_rcu=naive-atomic-alloc kfree_rcu.no_locks=1',
  },
  { id: 'batched', label: 'batched', cmdline: 'kfree_rcu=batched kfree_rcu.no_locks=0' },
];

/** The page allocator's `zone->lock` discipline. */
const LOCKINGS = [
  { id: '2020', label: '2020 (spin)', cmdline: 'page_alloc.trylock_first=0' },
  { id: 'trylock', label: 'trylock-first', cmdline: 'page_alloc.trylock_first=1' },
] as const;

/**
 * What the page allocator has at hand when kfree_rcu() needs a page:
 * stocked per-CPU lists (no `zone->lock`), empty lists (`rmqueue_bulk()`
 * takes `zone->lock`, uncontended), or empty lists while another CPU holds
 * `zone->lock`.
 */
const ALLOC_STATES = [
  { id: 'pcp-stocked', label: 'pcp stocked' },
  { id: 'pcp-empty', label: 'pcp empty' },
  { id: 'zone-contended', label: 'pcp empty, zone->lock held by CPU 1' },
] as const;

type AllocState = (typeof ALLOC_STATES)[number]['id'];

/** Object size and where its rcu_head sits (a typical `struct foo { …; struct rcu_head rcu; }`). */
const OBJ_SIZE = 128;
const HEAD_OFFSET = 16;
/** How long CPU 1 keeps `zone->lock` in the contended state. */
const ZONE_HOLD_NS = 200_000;
/** CPU 0 calls kfree_rcu() this long after CPU 1 took `zone->lock`. */
const CALL_DELAY_NS = 20_000;
/** Order of CPU 1's allocation: above PAGE_ALLOC_COSTLY_ORDER, so straight from the buddy under `zone->lock`. */
const HOLDER_ORDER = 4;
/** Other work during the grace period streams through this much memory (4 × a 48K L1d, rounded to an order). */
const COLD_ORDER = 6;
const COLD_BYTES = 4096 << COLD_ORDER;

/** Report kinds a reader recognises, with the kernel's first line. */
const SPLAT_NAMES: Readonly<Record<string, string>> = {
  'lockdep-invalid-wait-context': 'Invalid wait context',
  'might-sleep': 'sleeping function called from invalid context',
  'scheduling-while-atomic': 'scheduling while atomic',
};

/** Cache-model sites RCU walks when it frees the objects. */
const FREE_SITES = ['kvfree_rcu.bulk', 'kvfree_rcu.chain', 'kvfree_rcu.page', 'rcu.invoke'];

/** One booted combination and what it did. */
interface CaseResult {
  readonly preempt: string;
  readonly design: Design;
  readonly locking: (typeof LOCKINGS)[number];
  readonly state: AllocState;
  readonly objects: number;
  /** Reports printed while the caller held its raw spinlock. */
  readonly splats: readonly ReportRecord[];
  /** Reports printed before the scenario's first kfree_rcu() (boot). */
  readonly bootReports: number;
  readonly freed: number;
  readonly leaked: number;
  readonly pagesUnderLock: number;
  readonly allocFailures: number;
  readonly chained: number;
  /** Pages taken from krcp's own page cache during the call. */
  readonly cachedPagesUsed: number;
  /** Pages on the per-CPU lists when kfree_rcu() was called. */
  readonly pcpPages: number;
  /** Virtual time the caller held its raw spinlock. */
  readonly lockedNs: number;
  /** Private-cache misses (L1d misses) on CPU 0 during the calls. */
  readonly callMisses: number;
  /** L1d misses at the free-time sites ({@link FREE_SITES}). */
  readonly freeMisses: number;
  /** Lines of the first splat, in kernel format. */
  readonly splatText: string;
}

function l1Misses(c: CacheCounters): number {
  return c.accesses - c.l1Hits;
}

function siteMisses(stats: readonly SiteStats[], labels: readonly string[]): number {
  let n = 0;
  for (const s of stats) if (labels.includes(s.label)) n += l1Misses(s);
  return n;
}

function fallbackOf(r: CaseResult): string {
  const parts: string[] = [];
  if (r.cachedPagesUsed > 0) parts.push(`krcp page cache (${r.cachedPagesUsed})`);
  if (r.pagesUnderLock > 0) parts.push(`page allocated under krcp->lock (${r.pagesUnderLock})`);
  if (r.chained > 0) {
    parts.push(
      r.allocFailures > 0
        ? `allocation NULL, rcu_head chained (${r.chained})`
        : `no cached page, rcu_head chained (${r.chained})`,
    );
  }
  return parts.join('; ') || 'none';
}

function splatNames(r: CaseResult): string {
  if (r.splats.length === 0) return '-';
  const names: string[] = [];
  for (const s of r.splats) {
    const n = SPLAT_NAMES[s.kind] ?? s.kind;
    if (!names.includes(n)) names.push(n);
  }
  return names.join('; ');
}

function hasKind(r: CaseResult, kind: string): boolean {
  return r.splats.some((s) => s.kind === kind);
}

/**
 * Boot one combination and free `objects` objects with kfree_rcu() under a
 * raw spinlock on CPU 0, then wait for them with kvfree_rcu_barrier().
 */
function runCase(
  ctx: ScenarioContext,
  preempt: string,
  design: Design,
  locking: (typeof LOCKINGS)[number],
  state: AllocState,
  objects: number,
): CaseResult {
  const k = ctx.boot(`preempt=${preempt} ${design.cmdline} ${locking.cmdline}`);
  const m: Machine = k.machine;
  const callerLock = k.locking.rawSpinLock('&caller->lock');
  const coldSite = m.siteId('scenario.other_work');
  const holderCpu = 1;
  const go = new Completion(m);
  let arm = false;
  if (state === 'zone-contended') {
    // A long hold of zone->lock on CPU 1 (a big rmqueue_bulk() or a
    // compaction scan would do the same): the program spends the time
    // inside the lock once, on CPU 1 only.
    m.attachProgram('mm_page_alloc_zone_locked', { every: true }, (mm) => {
      if (arm && mm.cpu === holderCpu) {
        arm = false;
        mm.charge(ZONE_HOLD_NS);
      }
    });
    m.spawn(
      function* zoneHolder() {
        yield go.wait();
        arm = true;
        const page = k.pages.allocPages(GFP_KERNEL, HOLDER_ORDER);
        yield m.msleep(10);
        if (page >= 0) k.pages.freePages(page, HOLDER_ORDER);
      },
      { comm: 'zone_holder', cpu: holderCpu, affinity: [holderCpu] },
    );
  }

  const pcpCount = () => k.pages.zones().reduce((n, z) => n + z.pcpCount, 0);
  let pcpPages = 0;
  let bootReports = 0;
  let splats: readonly ReportRecord[] = [];
  let lockedNs = 0;
  let callMisses = 0;
  let freeMisses = 0;
  let before: KvfreeRcuStats | null = null;
  let during: KvfreeRcuStats | null = null;
  let after: KvfreeRcuStats | null = null;

  m.spawn(
    function* caller() {
      const objs: number[] = [];
      for (let i = 0; i < objects; i++) objs.push(k.slab.kmalloc(OBJ_SIZE, GFP_KERNEL));
      // Set up the allocator now, then let a second pass: __might_resched()
      // prints once per second, and boot or this setup may have printed
      // (taking zone->lock on PREEMPT_RT with the 2020 locking does).
      const spare = state === 'pcp-stocked' ? k.pages.allocPages(GFP_KERNEL, 0) : -1;
      if (spare < 0) k.pages.drainAllPages();
      yield m.msleep(1100);
      // Freed to this CPU's list, which then has a page to hand out.
      if (spare >= 0) k.pages.freePages(spare, 0);
      pcpPages = pcpCount();
      if (state === 'zone-contended') {
        go.complete();
        yield m.sleep(CALL_DELAY_NS);
      }
      bootReports = m.reports().length;
      before = k.rcu.stats().kvfree;
      const c0 = m.cache.stats().perCpu[0]!;
      const t0 = m.now();
      callerLock.lock();
      for (const p of objs) k.rcu.kfreeRcu(p, HEAD_OFFSET);
      callerLock.unlock();
      lockedNs = m.now() - t0;
      callMisses = l1Misses(m.cache.stats().perCpu[0]!) - l1Misses(c0);
      splats = m.reports().slice(bootReports);
      during = k.rcu.stats().kvfree;
      // Other work on this CPU during the grace period leaves the objects
      // cache-cold by the time RCU frees them (seed 000).
      const cold = k.pages.allocPages(GFP_KERNEL, COLD_ORDER);
      if (cold >= 0) {
        const base = k.pages.pageAddress(cold);
        for (let off = 0; off < COLD_BYTES; off += 64) m.load(base + off, coldSite);
      }
      const s0 = siteMisses(m.cache.siteStats(), FREE_SITES);
      yield* k.rcu.kvfreeRcuBarrier();
      freeMisses = siteMisses(m.cache.siteStats(), FREE_SITES) - s0;
      after = k.rcu.stats().kvfree;
      if (cold >= 0) k.pages.freePages(cold, COLD_ORDER);
    },
    { comm: 'kfree_rcu_caller', cpu: 0, affinity: [0] },
  );
  k.run();

  const b = before as KvfreeRcuStats | null;
  const d = during as KvfreeRcuStats | null;
  const a = after as KvfreeRcuStats | null;
  if (b === null || d === null || a === null) {
    throw new Error(`raw-lock-kfree-rcu: the caller on ${k.cmdline} did not finish`);
  }
  return {
    preempt,
    design,
    locking,
    state,
    objects,
    splats,
    bootReports,
    freed: a.freed - b.freed,
    leaked: a.leaked - b.leaked,
    pagesUnderLock: d.pagesAllocated - b.pagesAllocated,
    allocFailures: d.pageAllocFailures - b.pageAllocFailures,
    chained: d.chained - b.chained,
    cachedPagesUsed: Math.max(
      0,
      d.pagesInUse - b.pagesInUse - (d.pagesAllocated - b.pagesAllocated),
    ),
    pcpPages,
    lockedNs,
    callMisses,
    freeMisses,
    splatText: splats.length > 0 ? splats[0]!.text : '',
  };
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * kfree_rcu() under a raw spinlock: the splats each design gets with each
 * page-allocator locking, and what each fallback costs.
 */
export const rawLockKfreeRcuScenario: Scenario = defineScenario({
  name: 'raw-lock-kfree-rcu',
  title:
    'kfree_rcu() under a raw spinlock: which designs splat on PREEMPT_RT and with lockdep, and what their fallbacks cost',
  seeds: ['000', '002'],
  defaultCmdline: 'nr_cpus=2 mem=32M cache.llc=4M',
  run(ctx) {
    const opts = parseCmdline(ctx.cmdline);
    const nonRt = opts.preempt === 'rt' ? 'full' : opts.preempt;
    const models = ['rt', nonRt];
    const objects = ctx.small ? 64 : 1500;
    const states = ALLOC_STATES.filter((s) => s.id !== 'zone-contended' || opts.nr_cpus >= 2);
    const total = models.length * DESIGNS.length * LOCKINGS.length * states.length;
    const results: CaseResult[] = [];
    for (const preempt of models) {
      for (const design of DESIGNS) {
        for (const locking of LOCKINGS) {
          for (const st of states) {
            results.push(runCase(ctx, preempt, design, locking, st.id, objects));
            ctx.progress(results.length / total);
          }
        }
      }
    }
    return summarise(results, models, objects, opts.nr_cpus);
  },
});

export default rawLockKfreeRcuScenario;

function summarise(
  results: readonly CaseResult[],
  models: readonly string[],
  objects: number,
  nrCpus: number,
): ReturnType<Scenario['run']> {
  const of = (id: Design['id']) => results.filter((r) => r.design.id === id);
  const naive = of('naive');
  const noLocks = of('no-locks');
  const batched = of('batched');
  const iwc = 'lockdep-invalid-wait-context';
  const count = (rs: readonly CaseResult[], f: (r: CaseResult) => boolean) => rs.filter(f).length;

  const naiveIwc = count(naive, (r) => hasKind(r, iwc));
  const naiveSleep = count(naive, (r) => hasKind(r, 'might-sleep'));
  // On PREEMPT_RT the 2020 page allocator takes the RT patchset's pa_lock
  // (a sleeping per-CPU lock) for any order-0 allocation: under a raw
  // spinlock that splats whatever the lists hold, __GFP_NO_LOCKS or not.
  const rt2020 = (r: CaseResult) => r.preempt === 'rt' && r.locking.id === '2020';
  const naiveRt2020 = naive.filter(rt2020);
  const noLocksRt2020 = noLocks.filter(rt2020);
  const noLocksElsewhere = noLocks.filter((r) => !rt2020(r));
  const naiveTrylockQuiet = naive.filter(
    (r) => r.locking.id === 'trylock' && r.state !== 'zone-contended',
  );
  const naiveTrylockContended = naive.filter(
    (r) => r.locking.id === 'trylock' && r.state === 'zone-contended',
  );
  const batchedSplats = batched.reduce((n, r) => n + r.splats.length, 0);
  const noLocksSplats = noLocksElsewhere.reduce((n, r) => n + r.splats.length, 0);
  const noLocksNull = count(noLocks, (r) => r.allocFailures > 0);
  const leaked = results.reduce((n, r) => n + (r.objects - r.freed), 0);

  const rt2020Splat =
    naiveRt2020.length > 0 && [...naiveRt2020, ...noLocksRt2020].every((r) => hasKind(r, iwc));
  const rt2020Sleep = [...naiveRt2020, ...noLocksRt2020].every((r) => hasKind(r, 'might-sleep'));
  const trylockQuietOk = naiveTrylockQuiet.every((r) => r.splats.length === 0);
  const trylockContendedSplat =
    naiveTrylockContended.length === 0 || naiveTrylockContended.every((r) => hasKind(r, iwc));
  const ok =
    rt2020Splat &&
    rt2020Sleep &&
    batchedSplats === 0 &&
    noLocksSplats === 0 &&
    leaked === 0 &&
    trylockQuietOk &&
    trylockContendedSplat;

  // Misses per object at free time, by how the objects were recorded.
  // (Without zone->lock contention, whose spinning is not the fallback's cost.)
  const quiet = results.filter((r) => r.state !== 'zone-contended');
  const chainCases = quiet.filter((r) => r.chained === r.objects);
  const arrayCases = quiet.filter((r) => r.chained === 0);
  const perObj = (rs: readonly CaseResult[], f: (r: CaseResult) => number) =>
    rs.length === 0 ? 0 : rs.reduce((s, r) => s + f(r) / r.objects, 0) / rs.length;
  const chainFree = perObj(chainCases, (r) => r.freeMisses);
  const arrayFree = perObj(arrayCases, (r) => r.freeMisses);
  const chainCall = perObj(chainCases, (r) => r.callMisses);
  const arrayCall = perObj(arrayCases, (r) => r.callMisses);

  const summary =
    `naive-atomic-alloc: ${naiveIwc}/${naive.length} combinations print "BUG: Invalid wait context"` +
    ` (RT with 2020 locking, where the per-CPU lists sit under the sleeping pa_lock: ${count(naiveRt2020, (r) => hasKind(r, iwc))}/${naiveRt2020.length}),` +
    ` trylock-first hides it until zone->lock is contended (${count(naiveTrylockContended, (r) => hasKind(r, iwc))}/${naiveTrylockContended.length});` +
    ` __GFP_NO_LOCKS: ${noLocksSplats} splats except on RT with 2020 locking (${count(noLocksRt2020, (r) => hasKind(r, iwc))}/${noLocksRt2020.length}: pa_lock sleeps), NULL and rcu_head chaining in ${noLocksNull}/${noLocks.length};` +
    ` batched: ${batchedSplats} splats in ${batched.length} combinations; ${leaked} objects not freed`;

  const table: ResultTable = {
    title: `kfree_rcu() of ${objects} objects under one hold of a raw spinlock, per combination`,
    columns: [
      'preempt',
      'design',
      'zone->lock',
      'page allocator',
      'pcp pages',
      'splats while raw-locked',
      'freed',
      'fallback',
      'locked ns',
      'call misses/obj',
      'free misses/obj',
    ],
    rows: results.map((r) => [
      r.preempt,
      r.design.label,
      r.locking.label,
      ALLOC_STATES.find((s) => s.id === r.state)!.label,
      r.pcpPages,
      splatNames(r),
      `${r.freed}/${r.objects}`,
      fallbackOf(r),
      r.lockedNs,
      round(r.callMisses / r.objects),
      round(r.freeMisses / r.objects),
    ]),
  };

  const kinds: { readonly label: string; readonly rs: readonly CaseResult[] }[] = [
    { label: 'pointer array, page from the allocator under krcp->lock', rs: arrayCases },
    {
      label: 'rcu_head chained after a NULL from the allocator',
      rs: chainCases.filter((r) => r.allocFailures > 0),
    },
    {
      label: 'rcu_head chained, no cached page (no allocation tried)',
      rs: chainCases.filter((r) => r.allocFailures === 0),
    },
  ];
  const fallbackTable: ResultTable = {
    title:
      'What each way of recording the objects costs (mean over the combinations that took it, zone->lock uncontended)',
    columns: ['recorded as', 'combinations', 'locked ns/obj', 'call misses/obj', 'free misses/obj'],
    rows: kinds.map((x) => [
      x.label,
      x.rs.length,
      round(perObj(x.rs, (r) => r.lockedNs)),
      round(
        perObj(x.rs, (r) => r.callMisses),
        3,
      ),
      round(
        perObj(x.rs, (r) => r.freeMisses),
        3,
      ),
    ]),
  };

  const metrics: Metric[] = [
    { id: 'combinations', label: 'Combinations booted', value: results.length, unit: '' },
    {
      id: 'naive_invalid_wait_context',
      label: 'naive-atomic-alloc combinations with Invalid wait context',
      value: naiveIwc,
      unit: '',
      better: 'lower',
    },
    {
      id: 'naive_sleeping_in_atomic',
      label: 'naive-atomic-alloc combinations with "sleeping function called from invalid context"',
      value: naiveSleep,
      unit: '',
      better: 'lower',
    },
    {
      id: 'no_locks_splats',
      label: '__GFP_NO_LOCKS splats outside PREEMPT_RT with 2020 locking',
      value: noLocksSplats,
      unit: '',
      better: 'lower',
    },
    {
      id: 'no_locks_null_fallbacks',
      label: '__GFP_NO_LOCKS combinations where the allocator returned NULL',
      value: noLocksNull,
      unit: '',
    },
    {
      id: 'batched_splats',
      label: 'batched splats',
      value: batchedSplats,
      unit: '',
      better: 'lower',
    },
    {
      id: 'objects_not_freed',
      label: 'Objects not freed',
      value: leaked,
      unit: '',
      better: 'lower',
    },
    {
      id: 'chain_free_misses_per_object',
      label: 'Free-time L1d misses per object, rcu_head chained',
      value: round(chainFree, 3),
      unit: 'misses/object',
      better: 'lower',
    },
    {
      id: 'array_free_misses_per_object',
      label: 'Free-time L1d misses per object, pointer array',
      value: round(arrayFree, 3),
      unit: 'misses/object',
      better: 'lower',
    },
    {
      id: 'chain_call_misses_per_object',
      label: 'kfree_rcu() L1d misses per object, rcu_head chained',
      value: round(chainCall, 3),
      unit: 'misses/object',
      better: 'lower',
    },
    {
      id: 'array_call_misses_per_object',
      label: 'kfree_rcu() L1d misses per object, pointer array',
      value: round(arrayCall, 3),
      unit: 'misses/object',
      better: 'lower',
    },
  ];

  const firstIwc = results.find(
    (r) => r.design.id === 'naive' && r.preempt === 'rt' && hasKind(r, iwc),
  );
  const logLines: string[] = [];
  if (firstIwc !== undefined) {
    const rep = firstIwc.splats.find((s) => s.kind === iwc)!;
    logLines.push(...rep.text.split('\n').filter((l) => l.trim() !== ''));
  }

  const notes = [
    `${results.length} kernels booted (nr_cpus=${nrCpus}): preempt ${models.join(' and ')} × 3 designs × 2 zone->lock disciplines × ${results.length / (models.length * 6)} allocator states.`,
    `Each kernel: ${objects} objects of ${OBJ_SIZE} bytes (rcu_head at offset ${HEAD_OFFSET}) kmalloc'ed on CPU 0, then kfree_rcu()'d in one section holding a raw_spinlock_t, then kvfree_rcu_barrier().`,
    "Splats are the reports printed while the raw spinlock was held; reports from boot are not counted. On preempt=rt the 2020 model (page_alloc.trylock_first=0) protects the per-CPU lists with the RT patchset's pa_lock local lock, as PREEMPT_RT kernels of that time did, instead of local_irq_save().",
    `"zone->lock held by CPU 1": CPU 1 takes zone->lock for an order-${HOLDER_ORDER} allocation and holds it ${ZONE_HOLD_NS / 1000} µs (a program at mm_page_alloc_zone_locked spends the time); CPU 0 calls kfree_rcu() ${CALL_DELAY_NS / 1000} µs later.`,
    "Misses are L1d misses (accesses not satisfied by the CPU's L1d): during the calls on CPU 0, and at free time at the sites kvfree_rcu.bulk, kvfree_rcu.chain, kvfree_rcu.page and rcu.invoke.",
    "krcp's own page cache is empty at the call, as after boot (it is filled only after its first miss): the moment the naive design allocates and the batched design chains the rcu_head.",
    'lockdep stops after its first report, as the kernel does, so each kernel prints at most one lockdep splat.',
    'On PREEMPT_RT a contended zone->lock blocks the caller in its rtmutex: under the raw spinlock that is "scheduling while atomic", printed after the might-sleep report (the simulation charges the wait as time instead of switching tasks).',
    "The scenario sets preempt, kfree_rcu, kfree_rcu.no_locks and page_alloc.trylock_first itself; the run's preempt= picks the non-RT model (full when it is rt). Default machine: 2 CPUs, 32 MB, a 4 MB LLC (the question is about locking, not capacity; a smaller LLC boots faster).",
  ];

  return { verdict: { ok, summary }, metrics, tables: [table, fallbackTable], notes, logLines };
}
