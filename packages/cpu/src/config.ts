import { type CostTable, resolveCosts } from './costs.js';
import { MachineConfigError, show } from './errors.js';
import { type CacheConfig, type CacheConfigOverrides, makeCacheConfig } from './memory/index.js';

/**
 * Preemption model, as selected by `CONFIG_PREEMPT_NONE/VOLUNTARY/PREEMPT/RT`
 * or the `preempt=` boot parameter.
 * @public
 */
export type PreemptModel = 'none' | 'voluntary' | 'full' | 'rt';

/** All preemption models, in Kconfig order. @public */
export const PREEMPT_MODELS: readonly PreemptModel[] = Object.freeze([
  'none',
  'voluntary',
  'full',
  'rt',
]);

/** Tick rates the kernel offers (`CONFIG_HZ_100/250/300/1000`). @public */
export const HZ_VALUES: readonly number[] = Object.freeze([100, 250, 300, 1000]);

/** Most CPUs a machine may have (the cache model's limit, like a modest `NR_CPUS`). @public */
export const MAX_CPUS = 1024;

/**
 * Configuration of a simulated machine, the equivalent of the kernel config
 * and boot command line for the layer below the memory subsystems.
 * @public
 */
export interface MachineConfig {
  /** Number of CPUs, 1-1024 (`nr_cpus=`). Default 1. */
  readonly nrCpus?: number;
  /** Preemption model. Default `'voluntary'`. */
  readonly preempt?: PreemptModel;
  /** Tick rate: 100, 250, 300 or 1000. Default 1000. */
  readonly hz?: number;
  /** Seed of the machine's PRNG: any safe integer. Default 1. */
  readonly seed?: number;
  /** Physical memory size in bytes (`mem=`), a multiple of 4096. Default 256 MiB. */
  readonly memBytes?: number;
  /** Cache geometry and latency overrides. */
  readonly cache?: CacheConfigOverrides;
  /** Cost-table overrides. */
  readonly costs?: Partial<CostTable>;
  /** Turn the first report into a panic (`panic_on_warn=1`). Default false. */
  readonly panicOnWarn?: boolean;
  /** Record a Chrome/Perfetto trace. Default false. */
  readonly trace?: boolean;
  /** `uname -r` printed in report headers. Default `'6.18.0-sim'`. */
  readonly kernelRelease?: string;
}

/** A {@link MachineConfig} with every default filled in and validated. @public */
export interface ResolvedMachineConfig {
  readonly nrCpus: number;
  readonly preempt: PreemptModel;
  readonly hz: number;
  readonly seed: number;
  readonly memBytes: number;
  readonly cache: CacheConfig;
  readonly costs: CostTable;
  readonly panicOnWarn: boolean;
  readonly trace: boolean;
  readonly kernelRelease: string;
}

const FIELDS = [
  'nrCpus',
  'preempt',
  'hz',
  'seed',
  'memBytes',
  'cache',
  'costs',
  'panicOnWarn',
  'trace',
  'kernelRelease',
] as const;

/** Default physical memory size: 256 MiB. @public */
export const DEFAULT_MEM_BYTES = 256 * 1024 * 1024;

function bad(field: string, value: unknown, accepted: string): never {
  throw new MachineConfigError(
    'BAD_VALUE',
    field,
    `${field} = ${show(value)} is invalid: accepted ${accepted}`,
  );
}

/**
 * Validate a {@link MachineConfig} and fill in defaults. Throws
 * {@link MachineConfigError} naming the first bad field and its accepted range.
 * @public
 */
export function resolveMachineConfig(config: MachineConfig = {}): ResolvedMachineConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new MachineConfigError(
      'BAD_TYPE',
      'config',
      `machine config ${show(config)} is invalid: accepted an object`,
    );
  }
  for (const k of Object.keys(config)) {
    if (!(FIELDS as readonly string[]).includes(k)) {
      throw new MachineConfigError(
        'UNKNOWN_FIELD',
        k,
        `${k} is not a machine config field: accepted ${FIELDS.join(', ')}`,
      );
    }
  }
  const nrCpus = config.nrCpus ?? 1;
  if (!Number.isInteger(nrCpus) || nrCpus < 1 || nrCpus > MAX_CPUS) {
    bad('nrCpus', config.nrCpus, `an integer in [1, ${MAX_CPUS}]`);
  }
  const preempt = config.preempt ?? 'voluntary';
  if (!PREEMPT_MODELS.includes(preempt)) {
    bad('preempt', config.preempt, `one of ${PREEMPT_MODELS.map((m) => `'${m}'`).join(', ')}`);
  }
  const hz = config.hz ?? 1000;
  if (!HZ_VALUES.includes(hz)) bad('hz', config.hz, `one of ${HZ_VALUES.join(', ')}`);
  const seed = config.seed ?? 1;
  if (!Number.isSafeInteger(seed)) bad('seed', config.seed, 'a safe integer');
  const memBytes = config.memBytes ?? DEFAULT_MEM_BYTES;
  if (
    !Number.isSafeInteger(memBytes) ||
    memBytes <= 0 ||
    memBytes % 4096 !== 0 ||
    memBytes > 2 ** 46
  ) {
    bad('memBytes', config.memBytes, 'a positive multiple of 4096 up to 2^46');
  }
  const panicOnWarn = config.panicOnWarn ?? false;
  if (typeof panicOnWarn !== 'boolean') bad('panicOnWarn', config.panicOnWarn, 'a boolean');
  const trace = config.trace ?? false;
  if (typeof trace !== 'boolean') bad('trace', config.trace, 'a boolean');
  const kernelRelease = config.kernelRelease ?? '6.18.0-sim';
  if (typeof kernelRelease !== 'string' || kernelRelease.length === 0 || /\s/.test(kernelRelease)) {
    bad('kernelRelease', config.kernelRelease, 'a non-empty string without spaces');
  }
  const costs = resolveCosts(config.costs);
  let cache: CacheConfig;
  try {
    cache = makeCacheConfig(config.cache ?? {});
  } catch (e) {
    const field = (e as { field?: unknown }).field;
    const f = typeof field === 'string' && field.length > 0 ? `cache.${field}` : 'cache';
    throw new MachineConfigError('BAD_VALUE', f, (e as Error).message);
  }
  return Object.freeze({
    nrCpus,
    preempt,
    hz,
    seed,
    memBytes,
    cache,
    costs,
    panicOnWarn,
    trace,
    kernelRelease,
  });
}
