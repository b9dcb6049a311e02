import {
  DEFAULT_RCU_BLIMIT,
  DEFAULT_RCU_CPU_STALL_TIMEOUT,
  DEFAULT_RCU_DELAY_PAGE_CACHE_FILL_MSEC,
  DEFAULT_RCU_DIVISOR,
  DEFAULT_RCU_FANOUT,
  DEFAULT_RCU_FANOUT_LEAF,
  DEFAULT_RCU_MIN_CACHED_OBJS,
  DEFAULT_RCU_QHIMARK,
  DEFAULT_RCU_QLOMARK,
  DEFAULT_RCU_QOVLD_MULT,
  DEFAULT_RCU_RESCHED_NS,
  MAX_RCU_DELAY_PAGE_CACHE_FILL_MSEC,
  RCU_JIFFIES_FQS_DIV,
} from './constants.js';
import { RcuError, show } from './errors.js';

/**
 * How `kfree_rcu()` defers frees: today's batched pointer arrays, or one of
 * the designs the kernel tried or rejected (ARCHITECTURE.md, seeds 000-004).
 * @public
 */
export type KvfreeRcuStrategyName =
  | 'batched'
  | 'per-object'
  | 'offset-2008'
  | 'sheaf'
  | 'naive-atomic-alloc';

/** Every {@link KvfreeRcuStrategyName}. @public */
export const KVFREE_RCU_STRATEGIES: readonly KvfreeRcuStrategyName[] = Object.freeze([
  'batched',
  'per-object',
  'offset-2008',
  'sheaf',
  'naive-atomic-alloc',
]);

/**
 * Options of {@link createRcu}: the kernel's RCU boot parameters and Kconfig
 * choices (`rcutree.*`, `rcupdate.*`, `rcu_nocbs=`) plus the kvfree_rcu
 * strategy. Every field is optional.
 * @public
 */
export interface RcuOptions {
  /** `CONFIG_RCU_FANOUT`: children per interior rcu_node, 2-64. Default 64. */
  readonly fanout?: number;
  /** `CONFIG_RCU_FANOUT_LEAF` / `rcutree.rcu_fanout_leaf`: CPUs per leaf rcu_node, 2-64. Default 16. */
  readonly fanoutLeaf?: number;
  /** `rcutree.blimit`: callbacks invoked per batch. Default 10. */
  readonly blimit?: number;
  /** `rcutree.qhimark`. Default 10000. */
  readonly qhimark?: number;
  /** `rcutree.qlowmark`. Default 100. */
  readonly qlowmark?: number;
  /** `rcutree.qovld`: callbacks per CPU that count as overload. Default 2 × qhimark. */
  readonly qovld?: number;
  /** `rcutree.rcu_divisor`: the batch limit is at least `pending >> divisor`. Default 7. */
  readonly rcuDivisor?: number;
  /** `rcutree.rcu_resched_ns`: time limit of a softirq batch once the limit exceeds 100, in ns (clamped to 1 ms-1 s). Default 3 ms. */
  readonly rcuReschedNs?: number;
  /** `rcutree.jiffies_till_first_fqs`. Default `1 + (HZ > 250) + (HZ > 500) + nr_cpus / 256`. */
  readonly jiffiesTillFirstFqs?: number;
  /** `rcutree.jiffies_till_next_fqs`. Same default as the first. */
  readonly jiffiesTillNextFqs?: number;
  /** `rcutree.jiffies_till_sched_qs`. Default max(first + 2 × next, HZ / 10 + nr_cpus / 256). */
  readonly jiffiesTillSchedQs?: number;
  /** `rcutree.use_softirq`: invoke callbacks from RCU_SOFTIRQ (true) or rcuc/N kthreads (false). Default: false on PREEMPT_RT, else true. */
  readonly useSoftirq?: boolean;
  /** `rcu_nocbs=`: CPUs whose callbacks are offloaded to rcuo kthreads, as a list or a cpulist string ("1-3,5", "all"). Default none. */
  readonly rcuNocbs?: readonly number[] | string;
  /** `rcutree.rcu_nocb_gp_stride`: CPUs per rcuog kthread. Default √nr_cpus rounded. */
  readonly nocbGpStride?: number;
  /** `rcupdate.rcu_cpu_stall_timeout` in seconds, clamped to 3-300 as the kernel does. Default 21. */
  readonly rcuCpuStallTimeout?: number;
  /** `rcupdate.rcu_exp_cpu_stall_timeout` in ms; 0 means the normal timeout. Default 0. */
  readonly rcuExpCpuStallTimeout?: number;
  /** `rcupdate.rcu_cpu_stall_suppress`. Default false. */
  readonly rcuCpuStallSuppress?: boolean;
  /** `kernel.panic_on_rcu_stall`: panic("RCU Stall") after the first stall warning. Default false. */
  readonly panicOnRcuStall?: boolean;
  /** `rcupdate.rcu_expedited`: `synchronizeRcu()` uses expedited grace periods. Default false. */
  readonly rcuExpedited?: boolean;
  /** `rcupdate.rcu_normal`: expedited requests use normal grace periods. Default: true on PREEMPT_RT (rcu_normal_after_boot), else false. */
  readonly rcuNormal?: boolean;
  /** `CONFIG_DEBUG_OBJECTS_RCU_HEAD`: detect double `call_rcu()`/`kfree_rcu()` of one head. Default true. */
  readonly debugObjectsRcuHead?: boolean;
  /** Enable the grace-period oracle (readers vs callbacks and frees), reporting violations. Default false. */
  readonly oracle?: boolean;
  /** How `kfreeRcu()` defers frees. Default 'batched'. */
  readonly kfreeRcu?: KvfreeRcuStrategyName;
  /** For 'naive-atomic-alloc': allocate with `GFP_ATOMIC | __GFP_NO_LOCKS` (the 2020 RFC) instead of plain `GFP_ATOMIC`. Default false. */
  readonly naiveNoLocks?: boolean;
  /**
   * Allocate kvfree_rcu's pointer pages with `__GFP_MEMALLOC` (access to the
   * memory reserves below the min watermark) instead of `__GFP_NOMEMALLOC`:
   * the April 2020 RFC "rcu/tree: Use GFP_MEMALLOC for alloc memory to free
   * memory pattern" (seed 004), never merged. Applies to the batched designs'
   * page allocations. Default false.
   */
  readonly kvfreeMemalloc?: boolean;
  /** `rcu_min_cached_objs`: pages cached per CPU for kvfree_rcu, ≥ 0. Default 5. */
  readonly rcuMinCachedObjs?: number;
  /** `rcu_delay_page_cache_fill_msec`: refill back-off, clamped to 0-100000 with the kernel's message. Default 5000. */
  readonly rcuDelayPageCacheFillMsec?: number;
  /** `KFREE_DRAIN_JIFFIES` (a constant of 5 × HZ in the kernel), exposed for experiments. */
  readonly kfreeDrainJiffies?: number;
}

/** {@link RcuOptions} with every default resolved for a machine. @public */
export interface ResolvedRcuOptions {
  /** `CONFIG_RCU_FANOUT`. */
  readonly fanout: number;
  /** `CONFIG_RCU_FANOUT_LEAF`. */
  readonly fanoutLeaf: number;
  /** `rcutree.blimit`. */
  readonly blimit: number;
  /** `rcutree.qhimark`. */
  readonly qhimark: number;
  /** `rcutree.qlowmark`. */
  readonly qlowmark: number;
  /** `rcutree.qovld`. */
  readonly qovld: number;
  /** `rcutree.rcu_divisor`. */
  readonly rcuDivisor: number;
  /** `rcutree.rcu_resched_ns`, clamped to [1 ms, 1 s]. */
  readonly rcuReschedNs: number;
  /** `rcutree.jiffies_till_first_fqs`. */
  readonly jiffiesTillFirstFqs: number;
  /** `rcutree.jiffies_till_next_fqs`. */
  readonly jiffiesTillNextFqs: number;
  /** `rcutree.jiffies_till_sched_qs` (`jiffies_to_sched_qs`). */
  readonly jiffiesTillSchedQs: number;
  /** `rcutree.use_softirq`. */
  readonly useSoftirq: boolean;
  /** Offloaded CPUs, sorted. */
  readonly rcuNocbs: readonly number[];
  /** `rcutree.rcu_nocb_gp_stride`. */
  readonly nocbGpStride: number;
  /** `rcupdate.rcu_cpu_stall_timeout` in seconds, clamped to [3, 300]. */
  readonly rcuCpuStallTimeout: number;
  /** `rcupdate.rcu_exp_cpu_stall_timeout` in ms (0: the normal timeout). */
  readonly rcuExpCpuStallTimeout: number;
  /** `rcupdate.rcu_cpu_stall_suppress`. */
  readonly rcuCpuStallSuppress: boolean;
  /** `kernel.panic_on_rcu_stall`. */
  readonly panicOnRcuStall: boolean;
  /** `rcupdate.rcu_expedited`. */
  readonly rcuExpedited: boolean;
  /** `rcupdate.rcu_normal`. */
  readonly rcuNormal: boolean;
  /** `CONFIG_DEBUG_OBJECTS_RCU_HEAD`. */
  readonly debugObjectsRcuHead: boolean;
  /** Whether the grace-period oracle runs. */
  readonly oracle: boolean;
  /** The kvfree_rcu design. */
  readonly kfreeRcu: KvfreeRcuStrategyName;
  /** `__GFP_NO_LOCKS` for the naive design. */
  readonly naiveNoLocks: boolean;
  /** `__GFP_MEMALLOC` for the pointer pages (the 2020 RFC). */
  readonly kvfreeMemalloc: boolean;
  /** `rcu_min_cached_objs`. */
  readonly rcuMinCachedObjs: number;
  /** `rcu_delay_page_cache_fill_msec`, clamped to [0, 100000]. */
  readonly rcuDelayPageCacheFillMsec: number;
  /** Whether `rcuDelayPageCacheFillMsec` was clamped (the kernel prints "Adjusting …"). */
  readonly delayClamped: boolean;
  /** `KFREE_DRAIN_JIFFIES`. */
  readonly kfreeDrainJiffies: number;
}

const FIELDS: readonly (keyof RcuOptions)[] = [
  'fanout',
  'fanoutLeaf',
  'blimit',
  'qhimark',
  'qlowmark',
  'qovld',
  'rcuDivisor',
  'rcuReschedNs',
  'jiffiesTillFirstFqs',
  'jiffiesTillNextFqs',
  'jiffiesTillSchedQs',
  'useSoftirq',
  'rcuNocbs',
  'nocbGpStride',
  'rcuCpuStallTimeout',
  'rcuExpCpuStallTimeout',
  'rcuCpuStallSuppress',
  'panicOnRcuStall',
  'rcuExpedited',
  'rcuNormal',
  'debugObjectsRcuHead',
  'oracle',
  'kfreeRcu',
  'naiveNoLocks',
  'kvfreeMemalloc',
  'rcuMinCachedObjs',
  'rcuDelayPageCacheFillMsec',
  'kfreeDrainJiffies',
];

function bad(field: string, value: unknown, accepted: string): never {
  throw new RcuError(
    'BAD_OPTION',
    `rcu option ${field} = ${show(value)} is invalid: accepted ${accepted}`,
  );
}

function int(
  o: RcuOptions,
  field: keyof RcuOptions,
  dflt: number,
  min: number,
  max: number,
): number {
  const v = o[field];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    bad(field, v, `an integer in [${min}, ${max}]`);
  }
  return v;
}

function bool(o: RcuOptions, field: keyof RcuOptions, dflt: boolean): boolean {
  const v = o[field];
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') bad(field, v, 'true or false');
  return v;
}

/**
 * Parse a kernel cpulist ("0-3,8", "all", "") or a CPU array into a sorted
 * list of CPUs below `nrCpus`, as `cpulist_parse()` does for `rcu_nocbs=`.
 * @public
 */
export function parseCpuList(
  list: string | readonly number[],
  nrCpus: number,
  field = 'rcuNocbs',
): number[] {
  const out = new Set<number>();
  const add = (c: number, raw: unknown): void => {
    if (!Number.isInteger(c) || c < 0 || c >= nrCpus)
      bad(field, raw, `CPU numbers in [0, ${nrCpus - 1}]`);
    out.add(c);
  };
  if (typeof list === 'string') {
    const s = list.trim();
    if (s === 'all') for (let c = 0; c < nrCpus; c++) out.add(c);
    else if (s !== '') {
      for (const part of s.split(',')) {
        const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
        if (m === null) bad(field, list, 'a cpulist such as "1-3,5" or "all"');
        const a = Number(m[1]);
        const b = m[2] === undefined ? a : Number(m[2]);
        if (b < a) bad(field, list, 'ranges written low-high');
        for (let c = a; c <= b; c++) add(c, list);
      }
    }
  } else if (Array.isArray(list)) {
    for (const c of list) add(c, c);
  } else {
    bad(field, list, 'a CPU array or a cpulist string');
  }
  return [...out].sort((a, b) => a - b);
}

/**
 * Validate {@link RcuOptions} for a machine with `nrCpus` CPUs at `hz` and
 * fill in the kernel's defaults. Throws {@link RcuError} `BAD_OPTION` or
 * `UNKNOWN_OPTION` naming the field.
 * @public
 */
export function resolveRcuOptions(
  options: RcuOptions,
  machine: { readonly nrCpus: number; readonly hz: number; readonly rt: boolean },
): ResolvedRcuOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new RcuError(
      'BAD_OPTION',
      `rcu options ${show(options)} are invalid: accepted an object`,
    );
  }
  for (const k of Object.keys(options)) {
    if (!(FIELDS as readonly string[]).includes(k)) {
      throw new RcuError(
        'UNKNOWN_OPTION',
        `${k} is not an rcu option: accepted ${FIELDS.join(', ')}`,
      );
    }
  }
  const { nrCpus, hz, rt } = machine;
  const fanout = int(options, 'fanout', DEFAULT_RCU_FANOUT, 2, 64);
  const fanoutLeaf = int(options, 'fanoutLeaf', DEFAULT_RCU_FANOUT_LEAF, 2, 64);
  const blimit = int(options, 'blimit', DEFAULT_RCU_BLIMIT, 1, 1_000_000);
  const qhimark = int(options, 'qhimark', DEFAULT_RCU_QHIMARK, 1, 1e9);
  const qlowmark = int(options, 'qlowmark', DEFAULT_RCU_QLOMARK, 0, 1e9);
  const qovld = int(options, 'qovld', DEFAULT_RCU_QOVLD_MULT * qhimark, 0, 1e12);
  const rcuDivisor = int(options, 'rcuDivisor', DEFAULT_RCU_DIVISOR, 0, 62);
  const reschedRaw = int(options, 'rcuReschedNs', DEFAULT_RCU_RESCHED_NS, 0, 1e12);
  // rcu_do_batch() clamps rcu_resched_ns to [1 ms, 1 s].
  const rcuReschedNs = Math.min(Math.max(reschedRaw, 1_000_000), 1_000_000_000);
  const d = 1 + (hz > 250 ? 1 : 0) + (hz > 500 ? 1 : 0) + Math.floor(nrCpus / RCU_JIFFIES_FQS_DIV);
  const jiffiesTillFirstFqs = int(options, 'jiffiesTillFirstFqs', d, 0, hz);
  const jiffiesTillNextFqs = int(options, 'jiffiesTillNextFqs', d, 1, hz);
  // adjust_jiffies_till_sched_qs()
  let jtsq = jiffiesTillFirstFqs + 2 * jiffiesTillNextFqs;
  const floor = Math.floor(hz / 10) + Math.floor(nrCpus / RCU_JIFFIES_FQS_DIV);
  if (jtsq < floor) jtsq = floor;
  const jiffiesTillSchedQs = int(options, 'jiffiesTillSchedQs', jtsq, 1, 1e9);
  const useSoftirq = bool(options, 'useSoftirq', !rt);
  const rcuNocbs = options.rcuNocbs === undefined ? [] : parseCpuList(options.rcuNocbs, nrCpus);
  const nocbGpStride = int(
    options,
    'nocbGpStride',
    Math.max(1, Math.round(Math.sqrt(nrCpus))),
    1,
    nrCpus,
  );
  const stallRaw = int(options, 'rcuCpuStallTimeout', DEFAULT_RCU_CPU_STALL_TIMEOUT, 0, 1e6);
  // rcu_jiffies_till_stall_check() clamps the timeout to [3, 300] seconds.
  const rcuCpuStallTimeout = Math.min(Math.max(stallRaw, 3), 300);
  const rcuExpCpuStallTimeout = int(options, 'rcuExpCpuStallTimeout', 0, 0, 21_000);
  const rcuCpuStallSuppress = bool(options, 'rcuCpuStallSuppress', false);
  const panicOnRcuStall = bool(options, 'panicOnRcuStall', false);
  const rcuExpedited = bool(options, 'rcuExpedited', false);
  const rcuNormal = bool(options, 'rcuNormal', rt);
  const debugObjectsRcuHead = bool(options, 'debugObjectsRcuHead', true);
  const oracle = bool(options, 'oracle', false);
  const kfreeRcu = options.kfreeRcu ?? 'batched';
  if (!KVFREE_RCU_STRATEGIES.includes(kfreeRcu)) {
    bad('kfreeRcu', options.kfreeRcu, KVFREE_RCU_STRATEGIES.map((s) => `'${s}'`).join(', '));
  }
  const naiveNoLocks = bool(options, 'naiveNoLocks', false);
  const kvfreeMemalloc = bool(options, 'kvfreeMemalloc', false);
  const rcuMinCachedObjs = int(
    options,
    'rcuMinCachedObjs',
    DEFAULT_RCU_MIN_CACHED_OBJS,
    0,
    1_000_000,
  );
  const delayRaw = options.rcuDelayPageCacheFillMsec ?? DEFAULT_RCU_DELAY_PAGE_CACHE_FILL_MSEC;
  if (typeof delayRaw !== 'number' || !Number.isInteger(delayRaw)) {
    bad('rcuDelayPageCacheFillMsec', delayRaw, 'an integer number of milliseconds');
  }
  // kvfree_rcu_init() clamps to [0, 100 s] and says so.
  const rcuDelayPageCacheFillMsec = Math.min(
    Math.max(delayRaw, 0),
    MAX_RCU_DELAY_PAGE_CACHE_FILL_MSEC,
  );
  const kfreeDrainJiffies = int(options, 'kfreeDrainJiffies', 5 * hz, 1, 1e9);
  return Object.freeze({
    fanout,
    fanoutLeaf,
    blimit,
    qhimark,
    qlowmark,
    qovld,
    rcuDivisor,
    rcuReschedNs,
    jiffiesTillFirstFqs,
    jiffiesTillNextFqs,
    jiffiesTillSchedQs,
    useSoftirq,
    rcuNocbs: Object.freeze(rcuNocbs),
    nocbGpStride,
    rcuCpuStallTimeout,
    rcuExpCpuStallTimeout,
    rcuCpuStallSuppress,
    panicOnRcuStall,
    rcuExpedited,
    rcuNormal,
    debugObjectsRcuHead,
    oracle,
    kfreeRcu,
    naiveNoLocks,
    kvfreeMemalloc,
    rcuMinCachedObjs,
    rcuDelayPageCacheFillMsec,
    delayClamped: rcuDelayPageCacheFillMsec !== delayRaw,
    kfreeDrainJiffies,
  });
}
