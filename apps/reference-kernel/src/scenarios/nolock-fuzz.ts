/**
 * `nolock-fuzz` (seed 001): kmalloc_nolock()/kfree_nolock() re-entering the
 * slab allocator from NMIs and tracing programs at every slab probe point,
 * the way the patch author fuzzed the series (a callback before every
 * `local_unlock_irqrestore()` that re-enters at random), while tasks on every
 * CPU keep ordinary kmalloc()/kfree() traffic going. Every pointer handed out
 * is tracked and tagged; the allocator's invariants, its nolock counters and
 * the deferred-free lists are checked afterwards. The same workload runs with
 * the deferred-free list per CPU (what landed) and per cache (the first
 * proposal) to count the cache-line transfers each placement causes, as
 * Vlastimil argued in the thread, and once on the sheaves allocator.
 */
import type { Machine, ReportRecord, Rng, SiteStats } from '@sim/cpu';
import { __GFP_ZERO, GFP_ATOMIC, GFP_KERNEL } from '@sim/gfp';
import type { SlabStats } from '@sim/slab';
import { ZERO_SIZE_PTR } from '@sim/slab';
import { parseCmdline } from '../cmdline.js';
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

/** One booted configuration of the fuzz. */
interface RunSpec {
  readonly id: 'per_cpu' | 'per_cache' | 'sheaves';
  readonly label: string;
  readonly cmdline: string;
}

const RUNS: readonly RunSpec[] = [
  { id: 'per_cpu', label: 'slub, per-CPU list', cmdline: 'slab=slub slab.nolock_defer=per-cpu' },
  {
    id: 'per_cache',
    label: 'slub, per-cache list',
    cmdline: 'slab=slub slab.nolock_defer=per-cache',
  },
  {
    id: 'sheaves',
    label: 'sheaves, per-CPU list',
    cmdline: 'slab=sheaves slab.nolock_defer=per-cpu',
  },
];

/** Every probe point of @sim/slab: where NMIs and programs re-enter. */
const PROBES = [
  'slab.alloc.fastpath',
  'slab.alloc.slowpath',
  'slab.free.fastpath',
  'slab.free.slowpath',
  'slab.cpu_lock.unlock',
  'slab.new_slab',
  'slab.sheaf',
  'slab.barn',
  'llist.add',
] as const;

/** Per probe hit: chance of an NMI, and of a tracing program running. */
const NMI_RATE = 0.02;
const PROG_RATE = 0.01;
/**
 * At the per-CPU lock's unlock (inside the locked section) NMIs come far more
 * often: the patch author's fuzzing called back before every
 * `local_unlock_irqrestore()`, where kmalloc_nolock() must find the lock held.
 */
const UNLOCK_PROBE = 'slab.cpu_lock.unlock';
const UNLOCK_NMI_RATE = 0.25;

/** Sizes the tasks kmalloc(). */
const TASK_SIZES = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024] as const;
/**
 * Sizes the handlers ask kmalloc_nolock() for: 0 (ZERO_SIZE_PTR), ordinary
 * buckets, the largest bucket (whose retry bucket does not exist) and one
 * above KMALLOC_MAX_CACHE_SIZE (NULL, "too large"); 64 and 96 twice, as the
 * buckets the tasks use most.
 */
const NOLOCK_SIZES = [0, 16, 64, 96, 128, 256, 512, 64, 96, 8192, 16384] as const;

/** Objects each task keeps live, between these bounds. */
const POOL_MIN = 32;
const POOL_MAX = 384;
/** Objects handlers keep live. */
const NOLOCK_POOL_MAX = 256;
/** Other work a task does between two allocator calls (lets the CPUs interleave). */
const THINK_NS = 150;
/** Samples per run for the series. */
const SAMPLES = 40;

/** Cache-model site labels of the deferred-free lists (from @sim/slab's defer-free.ts). */
function isDeferSite(label: string): boolean {
  return label.startsWith('slab.defer:');
}
/** The `struct kmem_cache` line every fast path reads; with per-cache lists it holds the list head. */
const KMEM_CACHE_SITE = 'slab.kmem_cache';

/** What went wrong, as the scenario's own checks see it. */
interface Problems {
  /** A pointer handed out while already live. */
  doubleHandouts: number;
  /** A live object whose tag word changed before its free. */
  tagMismatches: number;
  /** A `__GFP_ZERO` allocation whose first word was not zero. */
  notZeroed: number;
  /** ksize() smaller than asked for. */
  tooSmall: number;
}

/** One site's cache-line traffic in a run. */
interface SiteRow {
  readonly label: string;
  readonly accesses: number;
  readonly transfers: number;
}

interface RunResult {
  readonly spec: RunSpec;
  readonly allocator: string;
  readonly kmallocs: number;
  readonly kfrees: number;
  readonly nmis: number;
  readonly programs: number;
  /** Program hits skipped because the program was already running on that CPU (bpf_prog_active). */
  readonly programMisses: number;
  /** kmalloc_nolock() calls as the handlers counted them. */
  readonly myNolockCalls: number;
  readonly myNolockOk: number;
  readonly myNolockNull: number;
  readonly myFreeNolockCalls: number;
  readonly problems: Problems;
  readonly invariants: readonly string[];
  /** Reports printed during the workload and cleanup that say memory was corrupted (slub-*, kasan-*, bad-page). */
  readonly corruptReports: readonly ReportRecord[];
  /** Other reports printed meanwhile (lockdep, sleeping in atomic context, …). */
  readonly splats: readonly ReportRecord[];
  /** Allocator statistics at the end of the workload. */
  readonly workload: SlabStats;
  /** After the cleanup's frees, before the final barrier. */
  readonly beforeBarrier: SlabStats;
  /** … and after it. */
  readonly after: SlabStats;
  /** Objects still allocated in the kmalloc caches after cleanup, over the boot baseline. */
  readonly leaked: number;
  /** Deferred-list sites and the kmem_cache line. */
  readonly sites: readonly SiteRow[];
  /** Transfers on the deferred-free list heads (and, per cache, the kmem_cache line holding them). */
  readonly bounces: number;
  readonly workloadNs: number;
  /** Objects the scenario saw in the 'deferred' state at the end of the workload. */
  readonly pendingSeen: number;
  readonly pendingSeries: (readonly [number, number])[];
  readonly bounceSeries: (readonly [number, number])[];
}

/**
 * Objects allocated from the kmalloc caches on behalf of their users: in use,
 * less the sheaves (which the sheaves design kmallocs for itself, counted on
 * the cache they serve).
 */
function kmallocInUse(st: SlabStats): number {
  let n = 0;
  for (const c of st.caches) {
    if (c.name.startsWith('kmalloc-')) n += c.inUse;
    n -= c.events.sheaf_alloc - c.events.sheaf_free;
  }
  return n;
}

function deferSites(all: readonly SiteStats[]): SiteRow[] {
  const rows: SiteRow[] = [];
  for (const s of all) {
    if (isDeferSite(s.label) || s.label === KMEM_CACHE_SITE) {
      rows.push({ label: s.label, accesses: s.accesses, transfers: s.transfers });
    }
  }
  return rows.sort((a, b) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0));
}

/** Bounces the placement causes: list heads, plus the kmem_cache line when it holds the list. */
function bouncesOf(rows: readonly SiteRow[], perCache: boolean): number {
  let n = 0;
  for (const r of rows) {
    if (isDeferSite(r.label) && !r.label.startsWith('slab.defer_slabs:')) n += r.transfers;
    else if (perCache && r.label === KMEM_CACHE_SITE) n += r.transfers;
  }
  return n;
}

/** Swap-remove entry `i` of `a`. */
function takeAt(a: number[], i: number): number {
  const v = a[i]!;
  a[i] = a[a.length - 1]!;
  a.pop();
  return v;
}

function runOne(ctx: ScenarioContext, spec: RunSpec, opsPerCpu: number): RunResult {
  const k: Kernel = ctx.boot(spec.cmdline);
  const m: Machine = k.machine;
  const slab = k.slab;
  const nr = m.nrCpus;
  const objSite = m.siteId('scenario.object');
  const problems: Problems = { doubleHandouts: 0, tagMismatches: 0, notZeroed: 0, tooSmall: 0 };
  /** Every live pointer the scenario holds, with its tag. */
  const live = new Map<number, number>();
  let tagSeq = 1;
  const handOut = (p: number, size: number, zeroed: boolean): void => {
    if (live.has(p)) problems.doubleHandouts++;
    if (zeroed && m.load(p, objSite) !== 0) problems.notZeroed++;
    if (slab.ksize(p) < size) problems.tooSmall++;
    const tag = tagSeq++;
    m.store(p, tag, objSite);
    live.set(p, tag);
  };
  /** Forget `p` before the free: the free may re-enter and hand `p` out again. */
  const takeBack = (p: number): void => {
    const tag = live.get(p);
    if (tag === undefined || m.load(p, objSite) !== tag) problems.tagMismatches++;
    live.delete(p);
  };

  const baseline = m.runOn(0, () => kmallocInUse(slab.stats()));
  // Boot-time reports (PREEMPT_RT boots print some) are not the fuzz's.
  const bootReports = k.reports().length;

  // The handlers: kmalloc_nolock()/kfree_nolock() from whatever context the
  // probe was hit in (NMI, or a program in the probed context).
  const nolockPool: number[] = [];
  /** Pointers given to kfree_nolock() that may still sit on a deferred list. */
  const nolockFreed = new Set<number>();
  /** Objects on the deferred lists, from the allocator's view of each object. */
  const deferredNow = (): number => {
    let n = 0;
    for (const p of nolockFreed) {
      if (slab.objectState(p) === 'deferred') n++;
      else nolockFreed.delete(p);
    }
    return n;
  };
  const hr = m.rng('nolock-fuzz/handler');
  let myNolockCalls = 0;
  let myNolockOk = 0;
  let myNolockNull = 0;
  let myFreeNolockCalls = 0;
  const handler = (): void => {
    if (nolockPool.length > 0 && (nolockPool.length >= NOLOCK_POOL_MAX || hr.int(2) === 0)) {
      const p = takeAt(nolockPool, hr.int(nolockPool.length));
      takeBack(p);
      myFreeNolockCalls++;
      slab.kfreeNolock(p);
      nolockFreed.add(p);
      return;
    }
    const size = NOLOCK_SIZES[hr.int(NOLOCK_SIZES.length)]!;
    const zero = hr.int(3) === 0;
    myNolockCalls++;
    const p = slab.kmallocNolock(size, zero ? __GFP_ZERO : 0);
    if (p === 0) {
      myNolockNull++;
      return;
    }
    myNolockOk++;
    if (p === ZERO_SIZE_PTR) return;
    handOut(p, size, zero);
    nolockPool.push(p);
  };
  const injections = PROBES.flatMap((probe) => [
    m.injectNmi(probe, { rate: probe === UNLOCK_PROBE ? UNLOCK_NMI_RATE : NMI_RATE }, handler),
    m.attachProgram(probe, { rate: PROG_RATE }, handler),
  ]);

  // Ordinary traffic: every CPU allocates and frees, picking frees from one
  // shared pool, so most frees are remote and miss the CPU slab or sheaf.
  const pool: number[] = [];
  let kmallocs = 0;
  let kfrees = 0;
  let finished = 0;
  const t0 = m.now();
  let tEnd = t0;
  const pendingSeries: [number, number][] = [];
  const bounceSeries: [number, number][] = [];
  const perCache = k.options['slab.nolock_defer'] === 'per-cache';
  const rt = k.options.preempt === 'rt';
  const sampleEvery = Math.max(1, Math.floor(opsPerCpu / SAMPLES));
  for (let cpu = 0; cpu < nr; cpu++) {
    const r: Rng = m.rng(`nolock-fuzz/task${cpu}`);
    m.spawn(
      function* fuzzer() {
        for (let i = 0; i < opsPerCpu; i++) {
          const mine = pool.length / nr;
          if (mine < POOL_MIN || (mine < POOL_MAX && r.int(2) === 0)) {
            const size = TASK_SIZES[r.int(TASK_SIZES.length)]!;
            // A quarter of the allocations are GFP_ATOMIC, with interrupts
            // off except on PREEMPT_RT (where the slab's locks sleep).
            const atomic = r.int(4) === 0;
            const irqsOff = atomic && !rt;
            const flags = irqsOff ? m.localIrqSave() : 0;
            const p = slab.kmalloc(size, atomic ? GFP_ATOMIC : GFP_KERNEL);
            if (p !== 0) {
              kmallocs++;
              handOut(p, size, false);
              pool.push(p);
            }
            if (irqsOff) m.localIrqRestore(flags);
          } else {
            const p = takeAt(pool, r.int(pool.length));
            takeBack(p);
            kfrees++;
            slab.kfree(p);
          }
          if (cpu === 0 && i % sampleEvery === 0) {
            const t = m.now() - t0;
            pendingSeries.push([t, deferredNow()]);
            bounceSeries.push([t, bouncesOf(deferSites(m.cache.siteStats()), perCache)]);
          }
          yield m.busy(THINK_NS);
        }
        finished++;
        if (finished === nr) tEnd = m.now();
      },
      { comm: `nolock_fuzz/${cpu}`, cpu, affinity: [cpu] },
    );
  }
  k.run();
  if (finished !== nr) throw new Error(`nolock-fuzz: the tasks on ${k.cmdline} did not finish`);
  const workloadNs = tEnd - t0;
  const workload = slab.stats();
  const pendingSeen = deferredNow();
  const sites = deferSites(m.cache.siteStats());
  const bounces = bouncesOf(sites, perCache);
  let nmis = 0;
  let programs = 0;
  let programMisses = 0;
  for (const inj of injections) {
    if (inj.kind === 'nmi') nmis += inj.fires;
    else {
      programs += inj.fires;
      programMisses += inj.misses;
    }
    inj.detach();
  }

  // Cleanup in task context: free what is left, then drain the deferred lists.
  let beforeBarrier: SlabStats | null = null;
  let after: SlabStats | null = null;
  m.spawn(
    function* cleanup() {
      while (pool.length > 0) {
        const p = pool.pop()!;
        takeBack(p);
        slab.kfree(p);
      }
      while (nolockPool.length > 0) {
        const p = nolockPool.pop()!;
        takeBack(p);
        myFreeNolockCalls++;
        slab.kfreeNolock(p);
      }
      yield m.busy(THINK_NS);
      beforeBarrier = slab.stats();
      slab.deferFreeBarrier();
      after = slab.stats();
    },
    { comm: 'nolock_cleanup', cpu: 0, affinity: [0] },
  );
  k.run();
  const newReports = k.reports().slice(bootReports);
  const bb = beforeBarrier as SlabStats | null;
  const af = after as SlabStats | null;
  if (bb === null || af === null) throw new Error(`nolock-fuzz: cleanup on ${k.cmdline} stuck`);
  return {
    spec,
    allocator: af.allocator,
    kmallocs,
    kfrees,
    nmis,
    programs,
    programMisses,
    myNolockCalls,
    myNolockOk,
    myNolockNull,
    myFreeNolockCalls,
    problems,
    invariants: k.checkInvariants(),
    corruptReports: newReports.filter(isCorruptionReport),
    splats: newReports.filter((x) => !isCorruptionReport(x)),
    workload,
    beforeBarrier: bb,
    after: af,
    leaked: kmallocInUse(af) - baseline,
    sites,
    bounces,
    workloadNs,
    pendingSeen,
    pendingSeries,
    bounceSeries,
  };
}

/** The counters reconcile: every nolock call is accounted for. */
function accountingErrors(r: RunResult): string[] {
  const nl = r.after.nolock;
  const f = nl.failures;
  const d = r.after.defer;
  const errs: string[] = [];
  const nulls = f.rtIrq + f.tooLarge + f.busy + f.noMemory;
  if (nl.allocCalls !== r.myNolockCalls) errs.push('kmalloc_nolock calls');
  if (nl.allocSucceeded !== r.myNolockOk) errs.push('kmalloc_nolock successes');
  if (nulls !== r.myNolockNull) errs.push('kmalloc_nolock NULLs by reason');
  if (nl.allocCalls !== nl.allocSucceeded + nulls) errs.push('kmalloc_nolock calls = ok + NULL');
  if (nl.freeCalls !== r.myFreeNolockCalls) errs.push('kfree_nolock calls');
  if (nl.freeCalls !== nl.freedNow + nl.deferred + nl.rejected) {
    errs.push('kfree_nolock calls = now + deferred + rejected');
  }
  if (d.queued !== nl.deferred) errs.push('deferred-list queued = kfree_nolock deferrals');
  if (d.drained !== d.queued || d.pending !== 0) errs.push('deferred lists drained');
  for (const st of [r.workload, r.beforeBarrier]) {
    if (st.defer.pending !== st.defer.queued - st.defer.drained) {
      errs.push('deferred-list pending = queued - drained');
    }
  }
  if (r.pendingSeen !== r.workload.defer.pending) errs.push('deferred objects seen = pending');
  // The scenario's per-site sum and the allocator's own count see the same lines.
  if (r.bounces !== r.workload.defer.cacheLineTransfers) errs.push('deferred-list transfers');
  return errs;
}

/** Report kinds that mean memory was corrupted, as opposed to a locking or context splat. */
function isCorruptionReport(r: ReportRecord): boolean {
  return r.kind.startsWith('slub-') || r.kind.startsWith('kasan-') || r.kind === 'bad-page';
}

function corruptionOf(r: RunResult): number {
  const p = r.problems;
  return (
    p.doubleHandouts +
    p.tagMismatches +
    p.notZeroed +
    p.tooSmall +
    r.invariants.length +
    r.corruptReports.length +
    Math.abs(r.leaked)
  );
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/**
 * kmalloc_nolock()/kfree_nolock() re-entrancy fuzz, and the per-CPU against
 * per-cache deferred-free list placement.
 */
export const nolockFuzzScenario: Scenario = defineScenario({
  name: 'nolock-fuzz',
  title:
    'kmalloc_nolock()/kfree_nolock() re-entering the slab allocator from NMIs and programs: no corruption, every NULL accounted, and which deferred-free list placement bounces less',
  seeds: ['001'],
  defaultCmdline: 'nr_cpus=4 mem=64M cache.llc=4M',
  run(ctx) {
    const opts = parseCmdline(ctx.cmdline);
    const opsPerCpu = ctx.small ? 500 : 10000;
    const results: RunResult[] = [];
    for (const spec of RUNS) {
      results.push(runOne(ctx, spec, opsPerCpu));
      ctx.progress(results.length / RUNS.length);
    }
    return summarise(results, opts.nr_cpus, opts.preempt, opsPerCpu);
  },
});

export default nolockFuzzScenario;

function summarise(
  results: readonly RunResult[],
  nrCpus: number,
  preempt: string,
  opsPerCpu: number,
): ScenarioResult {
  const byId = (id: RunSpec['id']) => results.find((r) => r.spec.id === id)!;
  const pc = byId('per_cpu');
  const pk = byId('per_cache');
  const sh = byId('sheaves');
  const corruption = results.reduce((n, r) => n + corruptionOf(r), 0);
  const doubleHandouts = results.reduce((n, r) => n + r.problems.doubleHandouts, 0);
  const invariantProblems = results.reduce((n, r) => n + r.invariants.length, 0);
  const accounting = results.flatMap((r) =>
    accountingErrors(r).map((e) => `${r.spec.label}: ${e}`),
  );
  const sum = (f: (r: RunResult) => number) => results.reduce((n, r) => n + f(r), 0);
  const nolockCalls = sum((r) => r.after.nolock.allocCalls);
  const nolockOk = sum((r) => r.after.nolock.allocSucceeded);
  const retries = sum((r) => r.after.nolock.retries);
  const nullBusy = sum((r) => r.after.nolock.failures.busy);
  const nullTooLarge = sum((r) => r.after.nolock.failures.tooLarge);
  const nullRtIrq = sum((r) => r.after.nolock.failures.rtIrq);
  const nullNoMem = sum((r) => r.after.nolock.failures.noMemory);
  const nulls = nullBusy + nullTooLarge + nullRtIrq + nullNoMem;
  const freeCalls = sum((r) => r.after.nolock.freeCalls);
  const freedNow = sum((r) => r.after.nolock.freedNow);
  const deferred = sum((r) => r.after.nolock.deferred);
  const drained = sum((r) => r.after.defer.drained);
  const drainedBeforeBarrier = sum((r) => r.beforeBarrier.defer.drained);
  const reentries = sum((r) => r.nmis + r.programs);

  const lessBouncy =
    pc.bounces < pk.bounces ? 'per-CPU' : pc.bounces > pk.bounces ? 'per-cache' : 'neither';
  const ratio = pc.bounces === 0 ? null : pk.bounces / pc.bounces;
  const perKfree = (r: RunResult) => (r.kfrees === 0 ? 0 : (1000 * r.bounces) / r.kfrees);
  const splats = results.flatMap((r) => r.splats);
  const splatKinds = [...new Set(splats.map((x) => x.kind))];
  const ok =
    corruption === 0 &&
    accounting.length === 0 &&
    splats.length === 0 &&
    reentries > 0 &&
    nolockCalls > 0;

  const summary =
    `${corruption} corruptions in ${results.length} kernels (${doubleHandouts} double handouts, ${invariantProblems} invariant problems)` +
    ` under ${reentries} re-entries (NMIs and programs):` +
    ` kmalloc_nolock ${nolockOk}/${nolockCalls} succeeded, ${retries} retried in the next bucket,` +
    ` ${nulls} NULL (busy ${nullBusy}, too large ${nullTooLarge}, RT irq ${nullRtIrq}, no memory ${nullNoMem});` +
    ` kfree_nolock ${freeCalls}: ${freedNow} freed at once, ${deferred} deferred, ${drained} drained` +
    `${accounting.length === 0 ? '' : `; accounting mismatches: ${accounting.join(', ')}`}` +
    `${splats.length === 0 ? '' : `; ${splats.length} other reports (${splatKinds.join(', ')})`};` +
    ` deferred-list cache-line transfers: per-CPU ${pc.bounces}, per-cache ${pk.bounces}` +
    (lessBouncy === 'neither'
      ? ' (equal)'
      : ` (${lessBouncy} bounces less${ratio === null ? '' : `, ${round(ratio, 1)}x`})`);

  const runTable: ResultTable = {
    title: `Each kernel: ${nrCpus} tasks × ${opsPerCpu} kmalloc/kfree calls, NMIs and programs calling kmalloc_nolock/kfree_nolock`,
    columns: [
      'run',
      'allocator',
      'kmalloc',
      'kfree',
      'NMIs',
      'programs',
      'programs skipped',
      'nolock alloc',
      'ok',
      'retries',
      'NULL busy',
      'NULL too large',
      'NULL RT irq',
      'NULL no memory',
      'kfree_nolock',
      'freed now',
      'deferred',
      'drained by irq_work/free',
      'drained by barrier',
      'double handouts',
      'invariant problems',
      'left allocated',
      'corruption reports',
      'other reports',
    ],
    rows: results.map((r) => {
      const nl = r.after.nolock;
      return [
        r.spec.label,
        r.allocator,
        r.kmallocs,
        r.kfrees,
        r.nmis,
        r.programs,
        r.programMisses,
        nl.allocCalls,
        nl.allocSucceeded,
        nl.retries,
        nl.failures.busy,
        nl.failures.tooLarge,
        nl.failures.rtIrq,
        nl.failures.noMemory,
        nl.freeCalls,
        nl.freedNow,
        nl.deferred,
        r.beforeBarrier.defer.drained,
        r.after.defer.drained - r.beforeBarrier.defer.drained,
        r.problems.doubleHandouts,
        r.invariants.length,
        r.leaked,
        r.corruptReports.length,
        r.splats.length,
      ];
    }),
  };

  const siteTable: ResultTable = {
    title:
      'Cache-line traffic at the deferred-free list sites (perf c2c style): accesses and transfers (line Modified in another CPU)',
    columns: ['run', 'site', 'accesses', 'transfers'],
    rows: results.flatMap((r) =>
      r.sites
        .filter((s) => s.accesses > 0)
        .map((s) => [r.spec.label, s.label, s.accesses, s.transfers]),
    ),
  };

  const placementTable: ResultTable = {
    title:
      'Deferred-free list placement: cache-line transfers on the list heads during the workload',
    columns: [
      'placement',
      'list transfers',
      'per 1000 kfree()',
      'slab stats transfers',
      'deferred',
      'pending at end',
      'workload µs',
    ],
    rows: [pc, pk, sh].map((r) => [
      r.spec.label,
      r.bounces,
      round(perKfree(r), 2),
      r.workload.defer.cacheLineTransfers,
      r.workload.nolock.deferred,
      r.workload.defer.pending,
      round(r.workloadNs / 1000, 1),
    ]),
  };

  const metrics: Metric[] = [
    { id: 'kernels', label: 'Kernels booted', value: results.length, unit: '' },
    {
      id: 'corruptions',
      label:
        'Corruptions (double handouts, tag or zeroing mismatches, invariant problems, slub/KASAN reports, leaks)',
      value: corruption,
      unit: '',
      better: 'lower',
    },
    {
      id: 'double_handouts',
      label: 'Pointers handed out while live',
      value: doubleHandouts,
      unit: '',
      better: 'lower',
    },
    {
      id: 'invariant_problems',
      label: 'Allocator invariant problems',
      value: invariantProblems,
      unit: '',
      better: 'lower',
    },
    {
      id: 'other_reports',
      label: 'Other reports during the fuzz (lockdep, sleeping in atomic context, …)',
      value: splats.length,
      unit: '',
      better: 'lower',
    },
    {
      id: 'accounting_mismatches',
      label: 'nolock counters that do not reconcile',
      value: accounting.length,
      unit: '',
      better: 'lower',
    },
    { id: 'reentries', label: 'NMIs and programs that re-entered', value: reentries, unit: '' },
    { id: 'nolock_alloc_calls', label: 'kmalloc_nolock() calls', value: nolockCalls, unit: '' },
    { id: 'nolock_alloc_ok', label: 'kmalloc_nolock() successes', value: nolockOk, unit: '' },
    {
      id: 'nolock_retries',
      label: 'kmalloc_nolock() retries in the next bucket',
      value: retries,
      unit: '',
    },
    { id: 'nolock_null', label: 'kmalloc_nolock() NULLs', value: nulls, unit: '' },
    { id: 'nolock_null_busy', label: 'NULL: both buckets busy', value: nullBusy, unit: '' },
    {
      id: 'nolock_null_too_large',
      label: 'NULL: above KMALLOC_MAX_CACHE_SIZE',
      value: nullTooLarge,
      unit: '',
    },
    {
      id: 'nolock_null_rt_irq',
      label: 'NULL: PREEMPT_RT in NMI/hardirq',
      value: nullRtIrq,
      unit: '',
    },
    {
      id: 'nolock_null_no_memory',
      label: 'NULL: no memory without spinning',
      value: nullNoMem,
      unit: '',
    },
    { id: 'nolock_free_calls', label: 'kfree_nolock() calls', value: freeCalls, unit: '' },
    {
      id: 'nolock_freed_now',
      label: 'kfree_nolock() frees done at once',
      value: freedNow,
      unit: '',
    },
    { id: 'nolock_deferred', label: 'kfree_nolock() frees deferred', value: deferred, unit: '' },
    {
      id: 'deferred_drained_early',
      label: 'Deferred frees drained by irq_work or the next free (before the final barrier)',
      value: drainedBeforeBarrier,
      unit: '',
    },
    { id: 'deferred_drained', label: 'Deferred frees drained', value: drained, unit: '' },
    {
      id: 'per_cpu_bounces',
      label: 'Deferred-list cache-line transfers, per-CPU lists',
      value: pc.bounces,
      unit: 'transfers',
      better: 'lower',
    },
    {
      id: 'per_cache_bounces',
      label: 'Deferred-list cache-line transfers, per-cache list',
      value: pk.bounces,
      unit: 'transfers',
      better: 'lower',
    },
    {
      id: 'sheaves_bounces',
      label: 'Deferred-list cache-line transfers, sheaves (per-CPU lists)',
      value: sh.bounces,
      unit: 'transfers',
      better: 'lower',
    },
    {
      id: 'per_cpu_bounces_per_kfree',
      label: 'Deferred-list transfers per 1000 kfree(), per-CPU lists',
      value: round(perKfree(pc), 3),
      unit: 'transfers/1000 kfree',
      better: 'lower',
    },
    {
      id: 'per_cache_bounces_per_kfree',
      label: 'Deferred-list transfers per 1000 kfree(), per-cache list',
      value: round(perKfree(pk), 3),
      unit: 'transfers/1000 kfree',
      better: 'lower',
    },
    {
      id: 'per_cpu_pending_at_end',
      label: 'Objects left on the deferred lists when the workload stopped, per-CPU lists',
      value: pc.workload.defer.pending,
      unit: 'objects',
      better: 'lower',
    },
    {
      id: 'per_cache_pending_at_end',
      label: 'Objects left on the deferred lists when the workload stopped, per-cache list',
      value: pk.workload.defer.pending,
      unit: 'objects',
      better: 'lower',
    },
    {
      id: 'per_cpu_workload_ns',
      label: 'Workload virtual time, per-CPU lists',
      value: pc.workloadNs,
      unit: 'ns',
      better: 'lower',
    },
    {
      id: 'per_cache_workload_ns',
      label: 'Workload virtual time, per-cache list',
      value: pk.workloadNs,
      unit: 'ns',
      better: 'lower',
    },
  ];

  const series: Series[] = results.flatMap((r) => [
    {
      id: `${r.spec.id}_deferred_pending`,
      label: `Objects on deferred-free lists, ${r.spec.label}`,
      unit: 'objects',
      points: r.pendingSeries,
    },
    {
      id: `${r.spec.id}_defer_bounces`,
      label: `Deferred-list cache-line transfers so far, ${r.spec.label}`,
      unit: 'transfers',
      points: r.bounceSeries,
    },
  ]);

  const notes = [
    `Scale: ${results.length} kernels (nr_cpus=${nrCpus}, preempt=${preempt}), each with ${nrCpus} tasks pinned one per CPU doing ${opsPerCpu} kmalloc()/kfree() calls (sizes ${TASK_SIZES[0]}–${TASK_SIZES[TASK_SIZES.length - 1]} bytes, a quarter GFP_ATOMIC${preempt === 'rt' ? '' : ' with interrupts off'}, ${THINK_NS} ns of other work between calls, frees taken from one shared pool so most are remote), keeping ${POOL_MIN}–${POOL_MAX} objects per CPU live.`,
    `At every @sim/slab probe point (${PROBES.join(', ')}) an NMI fires with probability ${NMI_RATE} (${UNLOCK_NMI_RATE} at ${UNLOCK_PROBE}, inside the per-CPU lock, as the patch author's fuzzing re-entered before every local_unlock_irqrestore()) and a tracing program runs with probability ${PROG_RATE}, both from the machine's seeded streams; each calls kmalloc_nolock() (sizes ${[...new Set(NOLOCK_SIZES)].join(', ')}, a third with __GFP_ZERO) or kfree_nolock() of an object an earlier handler got, keeping up to ${NOLOCK_POOL_MAX} live.`,
    'Every pointer handed out is tagged with a unique word and kept in one live set: a pointer handed out while live, a tag changed before the free, a __GFP_ZERO object not zeroed or ksize() below the request is a corruption, as are allocator or page invariant problems, slub/KASAN/bad-page reports and objects left allocated after cleanup. Other reports printed during the fuzz (lockdep, sleeping in atomic context) fail the verdict on their own; reports printed at boot are not counted.',
    'After the workload the injections are detached, the leftovers freed (the handlers’ objects with kfree_nolock()), and defer_free_barrier() drains what irq_work or the next ordinary free did not.',
    `Bounces are cache-line transfers (an access finding the line Modified in another CPU's cache) at the deferred-list head sites from machine.cache.siteStats(): slab.defer:cpuN for per-CPU lists; slab.defer:<cache> plus ${KMEM_CACHE_SITE} (the struct kmem_cache line that holds the per-cache list head and that every fast path reads) for the per-cache list. The slab.defer_slabs:cpuN lists (deferred slab deactivations, always per CPU) are shown in the site table but not counted.`,
    'The first two kernels boot slab=slub with slab.nolock_defer=per-cpu and per-cache; the third boots slab=sheaves with per-CPU lists. These override slab= and slab.nolock_defer= of the command line. Default machine: 4 CPUs, 64 MB, a 4 MB LLC.',
  ];

  // The first report in the kernel's own format, if anything printed.
  const first = results.flatMap((r) => [...r.corruptReports, ...r.splats])[0];
  const logLines = first === undefined ? [] : first.text.split('\n').filter((l) => l.trim() !== '');

  return {
    verdict: { ok, summary },
    metrics,
    tables: [runTable, placementTable, siteTable],
    series,
    notes,
    logLines,
  };
}
