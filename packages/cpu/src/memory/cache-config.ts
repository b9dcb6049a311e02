import { CacheConfigError } from './cache-error.js';

/**
 * Geometry and hit latency of one cache level, the simulated counterpart of one
 * `struct cacheinfo` leaf (include/linux/cacheinfo.h, as shown under
 * /sys/devices/system/cpu/cpu0/cache/indexN).
 * @public
 */
export interface CacheLevelConfig {
  /** Capacity in bytes; `sizeBytes / (lineSize * ways)` must be a power of two (the set count). */
  readonly sizeBytes: number;
  /** Associativity (lines per set), at least 1. */
  readonly ways: number;
  /** Load-to-use latency of a hit in this level, in nanoseconds. */
  readonly latencyNs: number;
}

/**
 * Cache hierarchy of the simulated machine: private L1d and L2 per CPU, one
 * shared last-level cache, DRAM, and the coherence costs. Models what the
 * kernel learns from `cache_line_size()` / `cacheinfo` plus the costs that
 * `____cacheline_aligned_in_smp` exists to avoid.
 * @public
 */
export interface CacheConfig {
  /** Coherence granule in bytes, as `L1_CACHE_BYTES`/`SMP_CACHE_BYTES`; a power of two in [8, 4096]. */
  readonly lineSize: number;
  /** Private first-level data cache of each CPU. */
  readonly l1: CacheLevelConfig;
  /** Private second-level cache of each CPU (inclusive of its L1). */
  readonly l2: CacheLevelConfig;
  /** Last-level cache shared by all CPUs (inclusive of every private cache). */
  readonly llc: CacheLevelConfig;
  /** Latency of a load that misses every cache and goes to DRAM, in ns. */
  readonly dramLatencyNs: number;
  /** Latency of fetching a line that is Modified in another CPU's cache (a "bounce"), in ns. */
  readonly transferLatencyNs: number;
  /** Minimum cost of a store that must invalidate copies held by other CPUs (an RFO/upgrade), in ns. */
  readonly invalidateLatencyNs: number;
}

/**
 * Partial overrides of a {@link CacheConfig}: any top-level number, and any
 * field of a level. Used with {@link makeCacheConfig}.
 * @public
 */
export interface CacheConfigOverrides {
  readonly lineSize?: number;
  readonly l1?: Partial<CacheLevelConfig>;
  readonly l2?: Partial<CacheLevelConfig>;
  readonly llc?: Partial<CacheLevelConfig>;
  readonly dramLatencyNs?: number;
  readonly transferLatencyNs?: number;
  readonly invalidateLatencyNs?: number;
}

/**
 * Realistic defaults for a current x86_64 server/desktop core. The private
 * levels follow Intel's Golden Cove / Raptor Cove P-core; the shared level
 * follows AMD Zen 3/4/5's per-CCD L3, whose 32 MiB / 16-way geometry has a
 * power-of-two set count (Intel's 36 MiB ring L3 has not). Latencies are
 * converted from cycles at about 4-5 GHz and rounded; they are meant to be
 * right within a factor well below 2, not exact for any one part.
 * @public
 */
export const DEFAULT_CACHE_CONFIG: CacheConfig = Object.freeze({
  // 64-byte lines on every x86_64 part and most arm64 server cores.
  lineSize: 64,
  // Golden Cove / Raptor Cove L1d: 48 KiB, 12-way, 5-cycle load-to-use
  // (Intel 64 and IA-32 Architectures Optimization Reference Manual); 5 cycles
  // at ~5 GHz = 1 ns.
  l1: Object.freeze({ sizeBytes: 48 * 1024, ways: 12, latencyNs: 1 }),
  // Raptor Cove (13th/14th gen Core) and Sapphire Rapids L2: 2 MiB, 16-way,
  // ~16-cycle latency = 3.2-4 ns at 4-5 GHz.
  l2: Object.freeze({ sizeBytes: 2 * 1024 * 1024, ways: 16, latencyNs: 4 }),
  // AMD Zen 3/4 L3 per CCD: 32 MiB, 16-way, ~46-50 cycles average load-to-use
  // (AMD Software Optimization Guide for family 19h) = 10-12 ns.
  llc: Object.freeze({ sizeBytes: 32 * 1024 * 1024, ways: 16, latencyNs: 12 }),
  // Idle load-to-use latency of DDR5 on desktop/server parts is typically
  // measured at 70-90 ns (e.g. Intel Memory Latency Checker idle latency).
  dramLatencyNs: 80,
  // Core-to-core cache-line ping-pong (c2clat-style measurements) on one die is
  // 30-60 ns on Intel ring/mesh parts and AMD cross-CCX; 50 ns is mid-range.
  transferLatencyNs: 50,
  // No single published figure: an upgrade (RFO to a Shared line) costs about
  // an LLC round trip (12 ns) plus the snoop-invalidate acknowledgements; 20 ns.
  invalidateLatencyNs: 20,
});

const LEVELS = ['l1', 'l2', 'llc'] as const;
const LEVEL_KEYS: readonly string[] = ['sizeBytes', 'ways', 'latencyNs'];
const TOP_KEYS: readonly string[] = [
  'lineSize',
  'l1',
  'l2',
  'llc',
  'dramLatencyNs',
  'transferLatencyNs',
  'invalidateLatencyNs',
];
const MAX_LEVEL_BYTES = 2 ** 30;
const MAX_WAYS = 256;

function show(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  return `${typeof value} ${String(value)}`;
}

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

function fail(field: string, value: unknown, accepted: string): never {
  throw new CacheConfigError(
    field,
    `cache config ${field} = ${show(value)} is invalid: accepted ${accepted}`,
  );
}

function checkKeys(obj: object, allowed: readonly string[], prefix: string): void {
  for (const key of Object.keys(obj)) {
    if (!allowed.includes(key)) {
      throw new CacheConfigError(
        `${prefix}${key}`,
        `cache config has unknown field ${prefix}${key}: accepted fields are ${allowed.map((k) => prefix + k).join(', ')}`,
      );
    }
  }
}

function checkLatency(field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(field, value, 'a finite number of nanoseconds >= 0');
  }
}

/**
 * Check a cache configuration and return it unchanged, or throw a
 * {@link CacheConfigError} naming the first bad field and its accepted range:
 * line size a power of two in [8, 4096]; per level an integer size up to 1 GiB,
 * ways in [1, 256], and a set count `size / (lineSize * ways)` that is an
 * integral power of two; sizes non-decreasing from L1 to L2 to LLC (the
 * hierarchy is inclusive); latencies finite and non-negative. Unknown fields
 * are rejected. The kernel trusts the geometry CPUID or firmware reports
 * (`struct cacheinfo`, drivers/base/cacheinfo.c); a simulated machine takes it
 * from its user, so it is checked here.
 * @public
 */
export function validateCacheConfig(config: CacheConfig): CacheConfig {
  if (typeof config !== 'object' || config === null) {
    throw new CacheConfigError(
      'config',
      `cache config ${show(config)} is invalid: accepted an object`,
    );
  }
  checkKeys(config, TOP_KEYS, '');
  const line = config.lineSize;
  if (!isPowerOfTwo(line) || line < 8 || line > 4096) {
    fail('lineSize', line, 'a power of two from 8 to 4096 bytes');
  }
  let prevSize = 0;
  let prevName = '';
  for (const name of LEVELS) {
    const level = config[name];
    if (typeof level !== 'object' || level === null) {
      fail(name, level, 'an object { sizeBytes, ways, latencyNs }');
    }
    checkKeys(level, LEVEL_KEYS, `${name}.`);
    const { sizeBytes, ways, latencyNs } = level;
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes > MAX_LEVEL_BYTES) {
      fail(`${name}.sizeBytes`, sizeBytes, `an integer byte count in [1, 2^30]`);
    }
    if (!Number.isSafeInteger(ways) || ways < 1 || ways > MAX_WAYS) {
      fail(`${name}.ways`, ways, `an integer in [1, ${MAX_WAYS}]`);
    }
    const sets = sizeBytes / (line * ways);
    if (!isPowerOfTwo(sets)) {
      fail(
        `${name}.sizeBytes`,
        sizeBytes,
        `a size giving a whole power-of-two number of sets: ${name}.sizeBytes / (lineSize ${line} * ${name}.ways ${ways}) is ${sets}`,
      );
    }
    if (sizeBytes < prevSize) {
      fail(
        `${name}.sizeBytes`,
        sizeBytes,
        `a size >= ${prevName}.sizeBytes (${prevSize}) because the hierarchy is inclusive`,
      );
    }
    checkLatency(`${name}.latencyNs`, latencyNs);
    prevSize = sizeBytes;
    prevName = name;
  }
  checkLatency('dramLatencyNs', config.dramLatencyNs);
  checkLatency('transferLatencyNs', config.transferLatencyNs);
  checkLatency('invalidateLatencyNs', config.invalidateLatencyNs);
  return config;
}

/**
 * Build a validated, frozen {@link CacheConfig} from {@link DEFAULT_CACHE_CONFIG}
 * and partial overrides (e.g. a smaller LLC for a cold-cache experiment).
 * Throws {@link CacheConfigError} for an unknown or invalid field.
 * @public
 */
export function makeCacheConfig(overrides: CacheConfigOverrides = {}): CacheConfig {
  if (typeof overrides !== 'object' || overrides === null) {
    throw new CacheConfigError(
      'config',
      `cache config overrides ${show(overrides)} are invalid: accepted an object`,
    );
  }
  checkKeys(overrides, TOP_KEYS, '');
  const d = DEFAULT_CACHE_CONFIG;
  const level = (name: (typeof LEVELS)[number]): CacheLevelConfig => {
    const o = overrides[name];
    if (o === undefined) return d[name];
    if (typeof o !== 'object' || o === null) {
      fail(name, o, 'an object with any of { sizeBytes, ways, latencyNs }');
    }
    checkKeys(o, LEVEL_KEYS, `${name}.`);
    return Object.freeze({ ...d[name], ...o });
  };
  const config: CacheConfig = Object.freeze({
    lineSize: overrides.lineSize ?? d.lineSize,
    l1: level('l1'),
    l2: level('l2'),
    llc: level('llc'),
    dramLatencyNs: overrides.dramLatencyNs ?? d.dramLatencyNs,
    transferLatencyNs: overrides.transferLatencyNs ?? d.transferLatencyNs,
    invalidateLatencyNs: overrides.invalidateLatencyNs ?? d.invalidateLatencyNs,
  });
  return validateCacheConfig(config);
}
