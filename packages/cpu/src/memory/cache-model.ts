import { type CacheConfig, DEFAULT_CACHE_CONFIG, validateCacheConfig } from './cache-config.js';
import { CacheConfigError, CacheError } from './cache-error.js';

/** Largest CPU count the cache model accepts (x86_64 `NR_CPUS` is commonly 1024 or more). @public */
export const MAX_CACHE_CPUS = 1024;

// Counter layout: one row of NR_COUNTERS Float64 slots per (site, CPU) pair,
// at ((site * nrCpus + cpu) << 3) + kind. An access bumps one slot; accesses
// and the per-CPU and per-site views are sums taken when read.
const C_L1 = 1;
const C_L2 = 2;
const C_LLC = 3;
const C_DRAM = 4;
const C_TRANSFER = 5;
const C_INVAL = 6;
const NR_COUNTERS = 8;
const INITIAL_SITES = 64;

/**
 * Event counts of the cache model, like the `perf stat` cache events
 * (`L1-dcache-loads`, `LLC-load-misses`, ...) plus coherence traffic. Every
 * access is classified exactly once, by where its data came from, so
 * `l1Hits + l2Hits + llcHits + dramMisses + transfers === accesses`.
 * `invalidations` counts copies in other CPUs' caches killed by stores and is
 * not part of that sum.
 * @public
 */
export interface CacheCounters {
  /** Loads and stores charged. */
  readonly accesses: number;
  /** Accesses satisfied by the CPU's L1d. */
  readonly l1Hits: number;
  /** Accesses that missed L1d and hit the CPU's L2. */
  readonly l2Hits: number;
  /** Accesses that missed the private caches and hit the shared LLC. */
  readonly llcHits: number;
  /** Accesses that missed every cache and went to DRAM (LLC misses). */
  readonly dramMisses: number;
  /** Accesses whose line was Modified in another CPU's cache (cache-line bounces). */
  readonly transfers: number;
  /** Shared copies in other CPUs' caches invalidated by this CPU's stores. */
  readonly invalidations: number;
}

/**
 * A snapshot of the cache model's counters: machine totals and one entry per
 * CPU, indexed by CPU id. The simulated `perf stat -a -A` for cache events.
 * @public
 */
export interface CacheStats {
  /** Sum over all CPUs. */
  readonly totals: CacheCounters;
  /** Counters of each CPU, indexed by CPU id. */
  readonly perCpu: readonly CacheCounters[];
}

/**
 * Counters attributed to one access site (a label such as `slab.freelist` or
 * `rcu.invoke`), the simulated equivalent of `perf c2c` / `perf mem` grouping
 * samples by code location.
 * @public
 */
export interface SiteStats extends CacheCounters {
  /** Site id, as returned by {@link CacheModel.siteId}. */
  readonly site: number;
  /** Site label; id 0 is `unlabelled`. */
  readonly label: string;
}

/**
 * Coherence state of one line as the directory sees it: a debugging view in
 * the spirit of `perf c2c`'s per-cacheline report.
 * @public
 */
export interface LineState {
  /** Whether the line is present in the shared LLC (and so possibly in private caches). */
  readonly inLlc: boolean;
  /** CPU holding the line Modified, or -1 when it is clean (Shared or only in the LLC). */
  readonly owner: number;
  /** CPUs whose private caches hold the line, ascending. */
  readonly sharers: readonly number[];
}

/**
 * Cache misses that leave the core complex: LLC misses to DRAM plus transfers
 * of lines Modified in another CPU's cache. Both cost tens of nanoseconds and
 * are what per-CPU data structures and batching try to avoid, so this is the
 * figure reports compare; L1/L2 misses that hit the LLC are not counted.
 * @public
 */
export function missesOf(counters: CacheCounters): number {
  return counters.dramMisses + counters.transfers;
}

function counterRow(a: Float64Array, base: number): CacheCounters {
  return {
    accesses:
      a[base + C_L1]! +
      a[base + C_L2]! +
      a[base + C_LLC]! +
      a[base + C_DRAM]! +
      a[base + C_TRANSFER]!,
    l1Hits: a[base + C_L1]!,
    l2Hits: a[base + C_L2]!,
    llcHits: a[base + C_LLC]!,
    dramMisses: a[base + C_DRAM]!,
    transfers: a[base + C_TRANSFER]!,
    invalidations: a[base + C_INVAL]!,
  };
}

/**
 * Set-associative, LRU, inclusive three-level cache hierarchy with an MSI
 * coherence directory, charging every simulated load and store. Models the
 * hardware behaviour that kernel code is written around: `____cacheline_aligned`,
 * per-CPU data, and false sharing.
 *
 * Design:
 * - Each CPU has a private L1d and L2; one LLC is shared. The hierarchy is
 *   inclusive (L1 within L2 within LLC, as Intel's L3 up to Broadwell): an L2
 *   eviction drops the line from that CPU's L1, and an LLC eviction
 *   back-invalidates it from every private cache. With many CPUs whose L2s add
 *   up to more than the LLC this costs private hits, as on real inclusive parts.
 * - The directory lives in the LLC: per LLC line an owner (the CPU holding it
 *   Modified, or -1) and a sharer bitmap of ceil(nrCpus/32) words. A CPU is a
 *   sharer exactly when the line is in its L2. A read of a line Modified
 *   elsewhere is a transfer and downgrades the owner to Shared; a store
 *   invalidates the other sharers and makes the writer the owner; a store to a
 *   line Modified elsewhere is a transfer. A sole sharer upgrades silently
 *   (MESI's Exclusive state folded into Shared-with-one-sharer).
 * - LRU uses a global access stamp per line. Hits in a level refresh only that
 *   level (an L1 hit is invisible to L2 and LLC, as in hardware). Invalid ways
 *   are filled before any valid line is evicted.
 * - All state is in typed arrays allocated in the constructor; `access()`
 *   allocates nothing. Lookups are shortcuts that never change the outcome: a
 *   per-CPU L1 way-prediction table checked against the key, and L1/L2 entries
 *   linked to each other so an L1 miss is decided by one L2 set scan. Each L2
 *   entry also mirrors whether its CPU owns the line, so private hits never
 *   touch the (large) LLC arrays.
 * - Writebacks of Modified lines are free; store buffers and prefetchers are
 *   not modelled.
 *
 * Host memory: per CPU about 36 bytes per L1 line and 25 per L2 line, plus
 * 24 + 4*ceil(nrCpus/32) bytes per LLC line; with the default geometry about
 * 0.85 MiB per CPU plus 14 MiB (roughly 1 GiB at 1024 CPUs: shrink L2 there).
 * @public
 */
export class CacheModel {
  /** Number of CPUs (1 .. {@link MAX_CACHE_CPUS}). */
  readonly nrCpus: number;
  /** The validated configuration in force. */
  readonly config: CacheConfig;

  private readonly lineSize: number;
  private readonly lineShift: number;

  // L1 entry i of CPU c lives at index (c * l1Sets + set) * l1Ways + way.
  private readonly l1Sets: number;
  private readonly l1Ways: number;
  // Two slots per entry, so an L1 hit reads one array: at 2i the key (line
  // number times two, plus 1 when the L2 entry is Modified here; -1 when
  // invalid); at 2i + 1 the LRU stamp (0 when invalid).
  private readonly l1: Float64Array;
  private readonly l1L2Way: Int32Array; // index of the same line's L2 entry

  private readonly l2Sets: number;
  private readonly l2Ways: number;
  private readonly l2Tag: Float64Array;
  private readonly l2Stamp: Float64Array;
  private readonly l2Slot: Int32Array; // index of the line's LLC entry
  private readonly l2L1Way: Int32Array; // index of the line's L1 entry, -1 if not in L1
  private readonly l2Mod: Uint8Array; // 1 when this CPU owns the line Modified

  private readonly llcSets: number;
  private readonly llcWays: number;
  private readonly llcTag: Float64Array;
  private readonly llcStamp: Float64Array;
  private readonly llcOwner: Int32Array;
  private readonly shWords: number;
  private readonly sharers: Uint32Array;

  // L1 way prediction, by CPU and low line bits: twice the L1 index the line
  // was last found at (its key's index in `l1`), checked against the key.
  private readonly predMask: number;
  private readonly predStride: number;
  private readonly pred: Int32Array;

  private readonly l1Lat: number;
  private readonly l2Lat: number;
  private readonly llcLat: number;
  private readonly dramLat: number;
  private readonly transferLat: number;
  private readonly invalLat: number;

  private counters: Float64Array;
  private sitesCap = INITIAL_SITES;
  private readonly siteLabels: string[] = [];
  private readonly siteIds = new Map<string, number>();
  private nrSites = 0;
  private clock = 0;

  constructor(nrCpus: number, config: CacheConfig = DEFAULT_CACHE_CONFIG) {
    if (!Number.isSafeInteger(nrCpus) || nrCpus < 1 || nrCpus > MAX_CACHE_CPUS) {
      throw new CacheConfigError(
        'nrCpus',
        `cache model nrCpus = ${String(nrCpus)} is invalid: accepted an integer in [1, ${MAX_CACHE_CPUS}]`,
      );
    }
    validateCacheConfig(config);
    this.nrCpus = nrCpus;
    this.config = config;
    this.lineSize = config.lineSize;
    // `| 0` keeps the field a small integer (Math.round returns an integral
    // heap number as it is), so access() shifts without unboxing it.
    this.lineShift = Math.round(Math.log2(config.lineSize)) | 0;

    this.l1Ways = config.l1.ways;
    this.l1Sets = config.l1.sizeBytes / (config.lineSize * this.l1Ways);
    const l1PerCpu = this.l1Sets * this.l1Ways;
    const l1Lines = nrCpus * l1PerCpu;
    this.l1 = new Float64Array(2 * l1Lines);
    for (let i = 0; i < l1Lines; i++) this.invalidateL1(i);
    this.l1L2Way = new Int32Array(l1Lines).fill(-1);

    this.l2Ways = config.l2.ways;
    this.l2Sets = config.l2.sizeBytes / (config.lineSize * this.l2Ways);
    const l2Lines = nrCpus * this.l2Sets * this.l2Ways;
    this.l2Tag = new Float64Array(l2Lines).fill(-1);
    this.l2Stamp = new Float64Array(l2Lines);
    this.l2Slot = new Int32Array(l2Lines).fill(-1);
    this.l2L1Way = new Int32Array(l2Lines).fill(-1);
    this.l2Mod = new Uint8Array(l2Lines);

    this.llcWays = config.llc.ways;
    this.llcSets = config.llc.sizeBytes / (config.lineSize * this.llcWays);
    const llcLines = this.llcSets * this.llcWays;
    this.llcTag = new Float64Array(llcLines).fill(-1);
    this.llcStamp = new Float64Array(llcLines);
    this.llcOwner = new Int32Array(llcLines).fill(-1);
    this.shWords = Math.ceil(nrCpus / 32);
    this.sharers = new Uint32Array(llcLines * this.shWords);

    // Four prediction entries per L1 line; every entry starts pointing into
    // its own CPU's L1 so a tag match there is always a genuine hit.
    const predSize = 2 ** Math.ceil(Math.log2(l1PerCpu * 4));
    // `| 0` keeps the field a small integer: `2 **` yields a heap number, and
    // a double-valued field would be unboxed on every access() mask.
    this.predMask = (predSize - 1) | 0;
    this.predStride = predSize | 0;
    this.pred = new Int32Array(nrCpus * predSize);
    for (let c = 0; c < nrCpus; c++) {
      this.pred.fill(2 * c * l1PerCpu, c * predSize, (c + 1) * predSize);
    }

    this.l1Lat = config.l1.latencyNs;
    this.l2Lat = config.l2.latencyNs;
    this.llcLat = config.llc.latencyNs;
    this.dramLat = config.dramLatencyNs;
    this.transferLat = config.transferLatencyNs;
    this.invalLat = config.invalidateLatencyNs;

    this.counters = new Float64Array(INITIAL_SITES * nrCpus * NR_COUNTERS);
    this.siteId('unlabelled');
  }

  /**
   * Intern a site label (e.g. `slab.freelist`, `rcu.invoke`) and return its
   * small integer id, to be obtained once and passed to every
   * {@link CacheModel.access} from that site. Id 0 is `unlabelled`. The same
   * label always yields the same id. Plays the role of a tracepoint or
   * `perf c2c` symbol name for attributing misses.
   */
  siteId(label: string): number {
    if (typeof label !== 'string' || label.length === 0) {
      throw new CacheError(
        'BAD_LABEL',
        `cache site label ${JSON.stringify(label)} is invalid: accepted a non-empty string`,
      );
    }
    const known = this.siteIds.get(label);
    if (known !== undefined) return known;
    const id = this.nrSites;
    if (id === this.sitesCap) {
      const grown = new Float64Array(this.counters.length * 2);
      grown.set(this.counters);
      this.counters = grown;
      this.sitesCap *= 2;
    }
    this.siteIds.set(label, id);
    this.siteLabels.push(label);
    this.nrSites = id + 1;
    return id;
  }

  /** The label interned as site `id`. */
  siteLabel(id: number): string {
    this.checkSite(id);
    return this.siteLabels[id]!;
  }

  /**
   * Charge a load (`write = false`) or store (`write = true`) by `cpu` of the
   * byte at `addr`, attributed to `site`; returns the latency in nanoseconds
   * to add to that CPU's clock. Updates the caches, the coherence directory
   * and the per-CPU and per-site counters. Allocates nothing. The simulated
   * counterpart of every dereference the kernel does (`READ_ONCE()`,
   * `WRITE_ONCE()`, an `atomic_*()` read-modify-write counting as a store).
   */
  access(cpu: number, addr: number, write: boolean, site: number): number {
    // One test for every argument; anything else (a bad argument, or an
    // address of 2^31 and above) takes the checked path. The body stays small
    // in bytecode so the lock, page and slab hot paths can inline it.
    if (
      !(
        (addr | 0) === addr &&
        addr >= 0 &&
        cpu >>> 0 === cpu &&
        cpu < this.nrCpus &&
        site >>> 0 === site &&
        site < this.nrSites
      )
    ) {
      return this.accessChecked(cpu, addr, write, site);
    }
    return this.accessLine(cpu, addr >>> this.lineShift, write, site);
  }

  /**
   * {@link CacheModel.access} for a caller whose `cpu` (a CPU of this model)
   * and `site` (an interned id) are known valid, such as an allocator's fast
   * path charging CPU `machine.cpu` at a site it interned: only the address is
   * checked, so the body stays small enough for those paths to inline.
   * @internal
   */
  accessAddr(cpu: number, addr: number, write: boolean, site: number): number {
    if ((addr | 0) === addr && addr >= 0) {
      return this.accessLine(cpu, addr >>> this.lineShift, write, site);
    }
    return this.accessChecked(cpu, addr, write, site);
  }

  /**
   * {@link CacheModel.access} by line number, for a caller that validated its
   * arguments once (a lock's word, a per-CPU structure): `cpu` a CPU of this
   * model, `site` an interned id and `line` the {@link CacheModel.lineNumber}
   * of a valid address. Its L1-hit path does no argument checks, so the lock
   * and slab fast paths stay small enough to inline: a CPU id out of range
   * throws {@link CacheError} (its lookups always miss), a bad site only on a miss.
   * @internal
   */
  accessLine(cpu: number, line: number, write: boolean, site: number): number {
    // An L1 hit at the predicted way that needs no coherence action (a load,
    // or a store to a line this CPU already owns) is the common case once the
    // working set is warm. Keys are line * 2 + Modified, so key - line * 2 is
    // 1 for an owned line, 0 for a clean one (enough for a load), anything
    // else for another line. A bad CPU indexes outside `pred` and misses.
    // `write === true`: a compare, where `!write` on a parameter is a full ToBoolean.
    const l1 = this.l1;
    const e = this.pred[(cpu * this.predStride + (line & this.predMask)) | 0]!;
    const d = l1[e]! - line * 2;
    if (d !== 1 && (d !== 0 || write === true)) return this.slowAccess(cpu, line, write, site);
    l1[e + 1] = ++this.clock;
    // `+ 1` is C_L1, written out: a module constant costs a context load here.
    this.counters[(((site * this.nrCpus + cpu) << 3) + 1) | 0]!++;
    return this.l1Lat;
  }

  /**
   * The line number of `addr` (its address divided by the line size), the
   * argument {@link CacheModel.accessLine} takes.
   * @throws {@link CacheError} `BAD_ADDRESS` unless `addr` is a non-negative safe integer.
   */
  lineNumber(addr: number): number {
    if (!(Number.isSafeInteger(addr) && addr >= 0)) this.badAddress(addr);
    return Math.floor(addr / this.lineSize);
  }

  /**
   * `access()` for arguments its fast test refused: throws {@link CacheError}
   * on a bad address, CPU or site (in that order), else serves an address of
   * 2^31 and above through the general path (which gives the same outcome as
   * the shortcuts would).
   */
  private accessChecked(cpu: number, addr: number, write: boolean, site: number): number {
    const line = this.lineNumber(addr);
    this.checkCpu(cpu);
    this.checkSite(site);
    return this.slowAccess(cpu, line, write === true, site);
  }

  /**
   * Everything `access()` does not answer itself.
   */
  private slowAccess(cpu: number, line: number, write: boolean, site: number): number {
    // accessLine() checks nothing: a bad CPU or site reaches here (its L1
    // lookups fail) and throws before any state changes.
    this.checkCpu(cpu);
    this.checkSite(site);
    const stamp = ++this.clock;
    const predIdx = cpu * (this.predMask + 1) + (line & this.predMask);
    let kind = C_L1;
    let lat = this.l1Lat;
    // The predicted L1 entry, when it holds the line (a store that needs ownership).
    const l1 = this.l1;
    let way1 = this.pred[predIdx]! >> 1;
    if (this.l1Line(way1) !== line) way1 = -1;
    let way2: number;

    if (way1 >= 0) {
      // Predicted L1 hit.
      l1[(way1 << 1) + 1] = stamp;
      way2 = this.l1L2Way[way1]!;
    } else {
      way2 = this.findL2(cpu, line);
      if (way2 >= 0 && this.l2L1Way[way2]! >= 0) {
        // L1 hit at a way the prediction did not know.
        way1 = this.l2L1Way[way2]!;
        l1[(way1 << 1) + 1] = stamp;
      } else if (way2 >= 0) {
        kind = C_L2;
        lat = this.l2Lat;
        this.l2Stamp[way2] = stamp;
        way1 = this.installL1(cpu, line, way2, stamp);
      } else {
        // Private miss: find the line (or the LRU victim) in the LLC set.
        const llcTag = this.llcTag;
        const llcStamp = this.llcStamp;
        const llcBase = (line & (this.llcSets - 1)) * this.llcWays;
        const llcEnd = llcBase + this.llcWays;
        let slot = -1;
        let victim = llcBase;
        let oldest = Number.POSITIVE_INFINITY;
        for (let i = llcBase; i < llcEnd; i++) {
          if (llcTag[i] === line) {
            slot = i;
            break;
          }
          const s = llcStamp[i]!;
          if (s < oldest) {
            oldest = s;
            victim = i;
          }
        }
        if (slot >= 0) {
          llcStamp[slot] = stamp;
          const owner = this.llcOwner[slot]!;
          if (owner >= 0) {
            // Modified in another CPU's cache (it cannot be ours: we missed L2).
            kind = C_TRANSFER;
            lat = this.transferLat;
            if (write === true) {
              // Ownership moves: the old owner's copy goes with the transfer.
              this.dropPrivate(owner, line);
              this.sharers[slot * this.shWords + (owner >>> 5)]! &= ~(1 << (owner & 31));
            } else {
              // The owner writes back and keeps a Shared copy.
              this.downgrade(owner, line);
            }
            this.llcOwner[slot] = -1;
          } else {
            kind = C_LLC;
            lat = this.llcLat;
          }
        } else {
          kind = C_DRAM;
          lat = this.dramLat;
          slot = victim;
          this.replaceLlc(slot, line, stamp);
        }
        way2 = this.installL2(cpu, line, slot, stamp);
        way1 = this.installL1(cpu, line, way2, stamp);
        this.sharers[slot * this.shWords + (cpu >>> 5)]! |= 1 << (cpu & 31);
      }
      this.pred[predIdx] = way1 << 1;
    }

    let invalidated = 0;
    if (write === true && this.l2Mod[way2] === 0) {
      // Not yet Modified here: kill other copies and take ownership.
      const slot = this.l2Slot[way2]!;
      invalidated = this.invalidateOthers(slot, line, cpu);
      if (invalidated > 0 && lat < this.invalLat) lat = this.invalLat;
      this.llcOwner[slot] = cpu;
      this.l2Mod[way2] = 1;
      this.setL1Key(way1, line, 1);
    }

    const row = (site * this.nrCpus + cpu) << 3;
    this.counters[row + kind]!++;
    if (invalidated > 0) this.counters[row + C_INVAL]! += invalidated;
    return lat;
  }

  /** Index of `line`'s entry in `cpu`'s L2, or -1. */
  private findL2(cpu: number, line: number): number {
    const tags = this.l2Tag;
    const base = (cpu * this.l2Sets + (line & (this.l2Sets - 1))) * this.l2Ways;
    for (let i = base, end = base + this.l2Ways; i < end; i++) {
      if (tags[i] === line) return i;
    }
    return -1;
  }

  /**
   * Put `line` (already in `cpu`'s L2 at `way2`) into the LRU way of its L1
   * set; the line it replaces stays in L2. Returns the L1 index used.
   */
  private installL1(cpu: number, line: number, way2: number, stamp: number): number {
    const l1 = this.l1;
    const base = (cpu * this.l1Sets + (line & (this.l1Sets - 1))) * this.l1Ways;
    let way = base;
    let oldest = l1[(base << 1) + 1]!;
    for (let i = base + 1, end = base + this.l1Ways; i < end; i++) {
      const s = l1[(i << 1) + 1]!;
      if (s < oldest) {
        oldest = s;
        way = i;
      }
    }
    if (l1[way << 1]! >= 0) this.l2L1Way[this.l1L2Way[way]!] = -1;
    this.setL1Key(way, line, this.l2Mod[way2]!);
    l1[(way << 1) + 1] = stamp;
    this.l1L2Way[way] = way2;
    this.l2L1Way[way2] = way;
    return way;
  }

  /**
   * Put `line` (whose LLC entry is `slot`) into the LRU way of `cpu`'s L2 set,
   * clean. A valid victim leaves this CPU entirely: dropped from its L1
   * (inclusion), its sharer bit cleared, and if it was Modified here it is
   * written back (ownership cleared). Returns the L2 index used.
   */
  private installL2(cpu: number, line: number, slot: number, stamp: number): number {
    const stamps = this.l2Stamp;
    const base = (cpu * this.l2Sets + (line & (this.l2Sets - 1))) * this.l2Ways;
    let way = base;
    let oldest = stamps[base]!;
    for (let i = base + 1, end = base + this.l2Ways; i < end; i++) {
      const s = stamps[i]!;
      if (s < oldest) {
        oldest = s;
        way = i;
      }
    }
    const old = this.l2Tag[way]!;
    if (old >= 0) {
      const oldSlot = this.l2Slot[way]!;
      const w1 = this.l2L1Way[way]!;
      if (w1 >= 0) this.invalidateL1(w1);
      this.sharers[oldSlot * this.shWords + (cpu >>> 5)]! &= ~(1 << (cpu & 31));
      if (this.l2Mod[way] === 1) this.llcOwner[oldSlot] = -1;
    }
    this.l2Tag[way] = line;
    stamps[way] = stamp;
    this.l2Slot[way] = slot;
    this.l2L1Way[way] = -1;
    this.l2Mod[way] = 0;
    return way;
  }

  /**
   * Refill LLC entry `slot` with `line` from DRAM, back-invalidating the line
   * it held from every private cache (inclusion).
   */
  private replaceLlc(slot: number, line: number, stamp: number): void {
    const old = this.llcTag[slot]!;
    if (old >= 0) {
      const sharers = this.sharers;
      const words = this.shWords;
      const sBase = slot * words;
      for (let w = 0; w < words; w++) {
        let bits = sharers[sBase + w]!;
        while (bits !== 0) {
          const low = bits & -bits;
          this.dropPrivate((w << 5) + (31 - Math.clz32(low)), old);
          bits ^= low;
        }
        sharers[sBase + w] = 0;
      }
    }
    this.llcTag[slot] = line;
    this.llcStamp[slot] = stamp;
    this.llcOwner[slot] = -1;
  }

  /** Invalidate every sharer of `slot` except `cpu`; returns how many copies were killed. */
  private invalidateOthers(slot: number, line: number, cpu: number): number {
    const sharers = this.sharers;
    const words = this.shWords;
    const sBase = slot * words;
    const myWord = cpu >>> 5;
    const myBit = 1 << (cpu & 31);
    let killed = 0;
    for (let w = 0; w < words; w++) {
      let bits = sharers[sBase + w]!;
      if (w === myWord) bits &= ~myBit;
      if (bits === 0) continue;
      sharers[sBase + w] = w === myWord ? myBit : 0;
      while (bits !== 0) {
        const low = bits & -bits;
        this.dropPrivate((w << 5) + (31 - Math.clz32(low)), line);
        killed++;
        bits ^= low;
      }
    }
    return killed;
  }

  /**
   * Invalidate `line` in `cpu`'s L2 and L1. The caller updates the directory
   * (sharer bit, owner).
   */
  private dropPrivate(cpu: number, line: number): void {
    const w2 = this.findL2(cpu, line);
    if (w2 < 0) return;
    const w1 = this.l2L1Way[w2]!;
    if (w1 >= 0) this.invalidateL1(w1);
    this.l2Tag[w2] = -1;
    this.l2Stamp[w2] = 0;
    this.l2L1Way[w2] = -1;
    this.l2Mod[w2] = 0;
  }

  /** Empty L1 entry `way` (its L2 entry's link is the caller's business). */
  private invalidateL1(way: number): void {
    this.l1[way << 1] = -1;
    this.l1[(way << 1) + 1] = 0;
  }

  /** `cpu` loses Modified ownership of `line` but keeps a Shared copy (a read by another CPU). */
  private downgrade(cpu: number, line: number): void {
    const w2 = this.findL2(cpu, line);
    if (w2 >= 0) {
      this.l2Mod[w2] = 0;
      const w1 = this.l2L1Way[w2]!;
      if (w1 >= 0) this.setL1Key(w1, line, 0);
    }
  }

  /**
   * Invalidate `cpu`'s private caches (Modified lines are written back to the
   * LLC, which keeps its contents), so its next accesses miss L1/L2. For
   * cold-cache experiments, like a CPU returning from a deep C-state that
   * flushed its caches.
   */
  flushCpu(cpu: number): void {
    this.checkCpu(cpu);
    const start = cpu * this.l2Sets * this.l2Ways;
    const end = start + this.l2Sets * this.l2Ways;
    const word = cpu >>> 5;
    const bit = 1 << (cpu & 31);
    for (let i = start; i < end; i++) {
      if (this.l2Tag[i]! < 0) continue;
      const slot = this.l2Slot[i]!;
      this.sharers[slot * this.shWords + word]! &= ~bit;
      if (this.l2Mod[i] === 1) this.llcOwner[slot] = -1;
    }
    this.l2Tag.fill(-1, start, end);
    this.l2Stamp.fill(0, start, end);
    this.l2Slot.fill(-1, start, end);
    this.l2L1Way.fill(-1, start, end);
    this.l2Mod.fill(0, start, end);
    const l1Start = cpu * this.l1Sets * this.l1Ways;
    const l1End = l1Start + this.l1Sets * this.l1Ways;
    for (let i = l1Start; i < l1End; i++) this.invalidateL1(i);
    this.l1L2Way.fill(-1, l1Start, l1End);
  }

  /**
   * Write back and invalidate every cache, private and shared, as `wbinvd`
   * (used by the kernel around memory-type changes): the next access to any
   * line goes to DRAM. Counters are kept.
   */
  flushAll(): void {
    for (let i = 0; i < this.l1L2Way.length; i++) this.invalidateL1(i);
    this.l1L2Way.fill(-1);
    this.l2Tag.fill(-1);
    this.l2Stamp.fill(0);
    this.l2Slot.fill(-1);
    this.l2L1Way.fill(-1);
    this.l2Mod.fill(0);
    this.llcTag.fill(-1);
    this.llcStamp.fill(0);
    this.llcOwner.fill(-1);
    this.sharers.fill(0);
  }

  /** Zero every per-CPU and per-site counter; cache contents are kept. Like `perf stat` starting a new interval. */
  resetStats(): void {
    this.counters.fill(0);
  }

  /** Snapshot of the machine-wide and per-CPU counters. */
  stats(): CacheStats {
    const n = this.nrCpus;
    const byCpu = new Float64Array(n * NR_COUNTERS);
    const totals = new Float64Array(NR_COUNTERS);
    for (let s = 0; s < this.nrSites; s++) {
      for (let c = 0; c < n; c++) {
        const row = (s * n + c) * NR_COUNTERS;
        for (let k = 0; k < NR_COUNTERS; k++) {
          byCpu[c * NR_COUNTERS + k]! += this.counters[row + k]!;
          totals[k]! += this.counters[row + k]!;
        }
      }
    }
    const perCpu: CacheCounters[] = [];
    for (let c = 0; c < n; c++) perCpu.push(counterRow(byCpu, c * NR_COUNTERS));
    return { totals: counterRow(totals, 0), perCpu };
  }

  /** Snapshot of the counters of every interned site, in id order (including sites with no accesses). */
  siteStats(): readonly SiteStats[] {
    const n = this.nrCpus;
    const sum = new Float64Array(NR_COUNTERS);
    const out: SiteStats[] = [];
    for (let s = 0; s < this.nrSites; s++) {
      sum.fill(0);
      for (let c = 0; c < n; c++) {
        const row = (s * n + c) * NR_COUNTERS;
        for (let k = 0; k < NR_COUNTERS; k++) sum[k]! += this.counters[row + k]!;
      }
      out.push({ site: s, label: this.siteLabels[s]!, ...counterRow(sum, 0) });
    }
    return out;
  }

  /** Directory state of the line holding byte `addr`. */
  lineState(addr: number): LineState {
    const line = this.lineNumber(addr);
    const base = (line & (this.llcSets - 1)) * this.llcWays;
    for (let i = base; i < base + this.llcWays; i++) {
      if (this.llcTag[i] !== line) continue;
      const sharers: number[] = [];
      for (let c = 0; c < this.nrCpus; c++) {
        if ((this.sharers[i * this.shWords + (c >>> 5)]! & (1 << (c & 31))) !== 0) sharers.push(c);
      }
      return { inLlc: true, owner: this.llcOwner[i]!, sharers };
    }
    return { inLlc: false, owner: -1, sharers: [] };
  }

  /**
   * Where `cpu`'s private caches hold the line of byte `addr`: 1 if in its L1
   * (and so its L2), 2 if only in its L2, 0 if in neither. Found by scanning
   * the tags, independently of the lookup shortcuts.
   */
  privateLevel(cpu: number, addr: number): 0 | 1 | 2 {
    this.checkCpu(cpu);
    const line = this.lineNumber(addr);
    const b1 = (cpu * this.l1Sets + (line & (this.l1Sets - 1))) * this.l1Ways;
    for (let i = b1; i < b1 + this.l1Ways; i++) if (this.l1Line(i) === line) return 1;
    return this.findL2(cpu, line) >= 0 ? 2 : 0;
  }

  /**
   * Check the model's internal invariants and return a description of each
   * violation (empty when consistent): inclusion L1 within L2 within LLC, a
   * CPU is a sharer exactly when the line is in its L2, a Modified line has its
   * owner as sole sharer (so it is valid in no other CPU's private cache), the
   * private Modified flags agree with the directory, L1/L2 links are mutual,
   * and no line is twice in a set.
   * For tests and debugging; costs a full scan.
   */
  checkCoherence(): string[] {
    const problems: string[] = [];
    const words = this.shWords;
    const isSharer = (slot: number, c: number): boolean =>
      (this.sharers[slot * words + (c >>> 5)]! & (1 << (c & 31))) !== 0;
    for (let slot = 0; slot < this.llcTag.length; slot++) {
      const line = this.llcTag[slot]!;
      const owner = this.llcOwner[slot]!;
      if (line < 0) {
        if (owner !== -1) problems.push(`empty LLC slot ${slot} has owner ${owner}`);
        for (let c = 0; c < this.nrCpus; c++) {
          if (isSharer(slot, c)) problems.push(`empty LLC slot ${slot} has sharer ${c}`);
        }
        continue;
      }
      if ((line & (this.llcSets - 1)) !== Math.floor(slot / this.llcWays)) {
        problems.push(`line ${line} is in the wrong LLC set`);
      }
      for (let c = 0; c < this.nrCpus; c++) {
        const has = this.findL2(c, line) >= 0;
        if (has !== isSharer(slot, c)) {
          problems.push(`line ${line}: cpu ${c} sharer bit ${isSharer(slot, c)} but in L2 ${has}`);
        }
        if (owner >= 0 && c !== owner && this.privateLevel(c, line * this.lineSize) !== 0) {
          problems.push(`line ${line} Modified by cpu ${owner} is also cached by cpu ${c}`);
        }
      }
      if (owner >= 0 && !isSharer(slot, owner)) {
        problems.push(`line ${line} owner ${owner} is not a sharer`);
      }
    }
    this.checkPrivate(problems);
    return problems;
  }

  private checkPrivate(problems: string[]): void {
    for (let c = 0; c < this.nrCpus; c++) {
      for (let s = 0; s < this.l2Sets; s++) {
        const base = (c * this.l2Sets + s) * this.l2Ways;
        for (let i = base; i < base + this.l2Ways; i++) {
          const line = this.l2Tag[i]!;
          if (line < 0) continue;
          if ((line & (this.l2Sets - 1)) !== s)
            problems.push(`cpu ${c} L2 line ${line} in wrong set`);
          const slot = this.l2Slot[i]!;
          if (this.llcTag[slot] !== line) {
            problems.push(`cpu ${c} L2 line ${line} points at an LLC entry not holding it`);
          }
          const owned = this.llcOwner[slot] === c ? 1 : 0;
          if (this.l2Mod[i] !== owned) {
            problems.push(
              `cpu ${c} L2 line ${line} Modified flag disagrees with owner ${this.llcOwner[slot]}`,
            );
          }
          const w1 = this.l2L1Way[i]!;
          if (w1 >= 0 && (this.l1Line(w1) !== line || this.l1L2Way[w1] !== i)) {
            problems.push(`cpu ${c} L2 line ${line} has a broken L1 link`);
          }
          for (let j = i + 1; j < base + this.l2Ways; j++) {
            if (this.l2Tag[j] === line) problems.push(`cpu ${c} L2 line ${line} present twice`);
          }
        }
      }
      for (let s = 0; s < this.l1Sets; s++) {
        const base = (c * this.l1Sets + s) * this.l1Ways;
        for (let i = base; i < base + this.l1Ways; i++) {
          const line = this.l1Line(i);
          if (line < 0) {
            if (this.l1[(i << 1) + 1] !== 0)
              problems.push(`cpu ${c} empty L1 entry ${i} has a stamp`);
            continue;
          }
          if ((line & (this.l1Sets - 1)) !== s)
            problems.push(`cpu ${c} L1 line ${line} in wrong set`);
          const w2 = this.l1L2Way[i]!;
          if (this.l2Tag[w2] !== line || this.l2L1Way[w2] !== i) {
            problems.push(`cpu ${c} L1 line ${line} is not linked to its L2 entry (inclusion)`);
          }
          if (this.l1[i << 1]! % 2 !== this.l2Mod[w2]) {
            problems.push(`cpu ${c} L1 line ${line} Modified mirror disagrees with its L2 entry`);
          }
          for (let j = i + 1; j < base + this.l1Ways; j++) {
            if (this.l1Line(j) === line) problems.push(`cpu ${c} L1 line ${line} present twice`);
          }
        }
      }
    }
  }

  /** Line number held by L1 entry `way`, -1 when it is empty. */
  private l1Line(way: number): number {
    return Math.floor(this.l1[way << 1]! / 2);
  }

  /** Set L1 entry `way`'s key: `line`, Modified here when `mod` is 1 (the decoding accessLine() does inline). */
  private setL1Key(way: number, line: number, mod: number): void {
    this.l1[way << 1] = line * 2 + mod;
  }

  private checkCpu(cpu: number): void {
    if (!(cpu >>> 0 === cpu && cpu < this.nrCpus)) this.badCpu(cpu);
  }

  private checkSite(site: number): void {
    if (!(site >>> 0 === site && site < this.nrSites)) this.badSite(site);
  }

  private badAddress(addr: number): never {
    throw new CacheError(
      'BAD_ADDRESS',
      `cache access address ${String(addr)} is invalid: accepted a non-negative safe integer byte address`,
    );
  }

  private badCpu(cpu: number): never {
    throw new CacheError(
      'BAD_CPU',
      `cpu ${String(cpu)} is invalid: accepted an integer in [0, ${this.nrCpus})`,
    );
  }

  private badSite(site: number): never {
    throw new CacheError(
      'BAD_SITE',
      `cache site ${String(site)} is invalid: accepted an id returned by siteId(), in [0, ${this.nrSites})`,
    );
  }
}
