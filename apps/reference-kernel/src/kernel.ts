/**
 * `bootKernel()`: the one place where concrete implementations are wired
 * together, chosen by boot parameters. Everything else depends on ports.
 */
import { type BuddyAllocator, checkBuddyInvariants, createPageAllocator } from '@sim/buddy';
import { createMachine, type Machine, type ReportRecord } from '@sim/cpu';
import { createLocking, type Locking } from '@sim/locks';
import { createRcu, type Rcu, type RcuPageAllocator } from '@sim/rcu';
import { createSlabAllocator, type SlabAllocator } from '@sim/slab';
import { type BootOptions, formatCmdline, parseCmdline } from './cmdline.js';

/** RCU statistics as `name: value` lines, one per counter. */
export function formatRcuStats(rcu: Rcu): string {
  const lines: string[] = [];
  const walk = (prefix: string, v: unknown): void => {
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') {
      lines.push(`${prefix}: ${v}`);
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) walk(`${prefix}[${i}]`, v[i]);
    } else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) walk(prefix === '' ? k : `${prefix}.${k}`, x);
    }
  };
  walk('', rcu.stats());
  return `${lines.join('\n')}\n`;
}

/** Host-side switches that are not kernel parameters. */
export interface BootExtras {
  /** Record a Chrome trace (off by default: free when off). */
  readonly trace?: boolean;
}

/** A booted simulated kernel. */
export interface Kernel {
  readonly options: BootOptions;
  /** Canonical command line, every parameter. */
  readonly cmdline: string;
  readonly machine: Machine;
  readonly locking: Locking;
  readonly pages: BuddyAllocator;
  readonly slab: SlabAllocator;
  readonly rcu: Rcu;
  /** The kernel log. */
  dmesg(): string;
  /** Structured diagnostics, optionally of one kind. */
  reports(kind?: string): readonly ReportRecord[];
  /** `/proc/meminfo`. */
  meminfo(): string;
  /** `/proc/buddyinfo`. */
  buddyinfo(): string;
  /** `/proc/zoneinfo`. */
  zoneinfo(): string;
  /** `/proc/slabinfo`. */
  slabinfo(): string;
  /** RCU and kvfree_rcu statistics (the kernel's rcu debugfs / kfree_rcu stats, as text). */
  rcuinfo(): string;
  /** Run the machine until `until` ns of virtual time, or until idle. */
  run(opts?: { until?: number; maxEvents?: number }): void;
  /** Invariant problems across the page and slab allocators (empty when sound). */
  checkInvariants(): string[];
}

// @sim/rcu's RcuPageAllocator wants addresses (0 on failure) from
// alloc_pages_nolock; the buddy returns pfns (-1), so that one call is adapted.
function rcuPagesOf(b: BuddyAllocator): RcuPageAllocator {
  return {
    getFreePage: (gfp) => b.getFreePage(gfp),
    freePage: (addr) => b.freePage(addr),
    allocPagesNolock: (gfp, nid, order) => {
      const p = b.allocPagesNolock(gfp, nid, order);
      return p < 0 ? 0 : b.pageAddress(p);
    },
  };
}

/**
 * Boot a kernel from a command line (`"nr_cpus=8 preempt=rt …"`) or parsed
 * options. Every parameter is validated before anything is built.
 * @throws BootParamError for an unknown or malformed parameter.
 */
export function bootKernel(cmdline: string | BootOptions = '', extras: BootExtras = {}): Kernel {
  const o = typeof cmdline === 'string' ? parseCmdline(cmdline) : cmdline;
  const machine = createMachine({
    nrCpus: o.nr_cpus,
    preempt: o.preempt as 'none' | 'voluntary' | 'full' | 'rt',
    hz: Number(o.hz),
    seed: o.seed,
    memBytes: o.mem,
    panicOnWarn: o.panic_on_warn,
    trace: extras.trace ?? false,
    cache: {
      l1: { sizeBytes: o['cache.l1d'] },
      l2: { sizeBytes: o['cache.l2'] },
      llc: { sizeBytes: o['cache.llc'] },
      dramLatencyNs: o['cache.dram_ns'],
    },
  });
  const locking = createLocking(machine, {
    lockdep: o.lockdep ? { keepGoing: o['lockdep.keep_going'] } : false,
  });
  const pages = createPageAllocator(machine, locking, {
    ...(o.min_free_kbytes > 0 ? { minFreeKbytes: o.min_free_kbytes } : {}),
    watermarkScaleFactor: o.watermark_scale_factor,
    pcp: o['page_alloc.pcp'],
    zoneLock: o['page_alloc.trylock_first'] ? 'trylock-first' : 'full',
  });
  const slab = createSlabAllocator(
    o.slab,
    { machine, locking, pages },
    {
      ...(o.slab_debug === 'off' ? {} : { slabDebug: o.slab_debug }),
      kasan: o.kasan,
      deferPlacement: o['slab.nolock_defer'],
    },
  );
  const rcu = createRcu(
    {
      machine,
      locking,
      freer: slab,
      pages: rcuPagesOf(pages),
      shrinkers: pages,
      sheaf: {
        kfreeRcuSheaf: (addr) => slab.kfreeRcuSheaf(addr),
        flushAllRcuSheaves: () => slab.flushRcuSheaves(),
      },
    },
    {
      kfreeRcu: o.kfree_rcu as 'batched',
      naiveNoLocks: o['kfree_rcu.no_locks'],
      kvfreeMemalloc: o['kfree_rcu.memalloc'],
      rcuMinCachedObjs: o['rcutree.rcu_min_cached_objs'],
      rcuDelayPageCacheFillMsec: o['rcutree.rcu_delay_page_cache_fill_msec'],
      blimit: o['rcutree.blimit'],
      qhimark: o['rcutree.qhimark'],
      qlowmark: o['rcutree.qlowmark'],
      fanoutLeaf: o['rcutree.rcu_fanout_leaf'],
      rcuCpuStallTimeout: o['rcupdate.rcu_cpu_stall_timeout'],
      rcuExpedited: o['rcupdate.rcu_expedited'],
      rcuNocbs: o.rcu_nocbs,
    },
  );
  // SLAB_TYPESAFE_BY_RCU and the rcu_free sheaf hand work to call_rcu().
  slab.setRcu({ callRcu: (head, fn) => rcu.callRcu(head, fn) });

  const kernel: Kernel = {
    options: o,
    cmdline: formatCmdline(o),
    machine,
    locking,
    pages,
    slab,
    rcu,
    dmesg: () => machine.dmesg(),
    reports: (kind) => machine.reports(kind === undefined ? {} : { kind }),
    meminfo: () => pages.meminfo(),
    buddyinfo: () => pages.buddyinfo(),
    zoneinfo: () => pages.zoneinfo(),
    slabinfo: () => slab.slabinfo(),
    rcuinfo: () => formatRcuStats(rcu),
    run: (opts = {}) => {
      if (opts.until === undefined)
        machine.runUntilIdle(opts.maxEvents === undefined ? {} : { maxEvents: opts.maxEvents });
      else machine.run(opts);
    },
    checkInvariants: () => [...checkBuddyInvariants(pages).problems, ...slab.checkInvariants()],
  };
  return kernel;
}
