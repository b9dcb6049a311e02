import { CacheConfigError, makeCacheConfig, validateCacheConfig } from '@sim/cpu';

/**
 * The kernel command line of the reference kernel: one table of parameters,
 * spelled as Linux spells them where Linux has them, each with its type,
 * default and documentation. Parsing validates every value and rejects
 * unknown parameters with the nearest valid name.
 */

/** A command-line problem: names the parameter, the bad value and what is accepted. */
export class BootParamError extends Error {
  override readonly name = 'BootParamError';
  constructor(
    readonly code: 'UNKNOWN_PARAM' | 'BAD_VALUE' | 'MALFORMED' | 'DUPLICATE',
    readonly param: string,
    message: string,
    readonly suggestion: string | null = null,
  ) {
    super(message);
  }
}

type Parsed = number | boolean | string | readonly number[];

/** One boot parameter. */
export interface BootParam<T extends Parsed = Parsed, N extends string = string> {
  /** As typed on the command line, e.g. `rcutree.blimit`. */
  readonly name: N;
  /** The default, as typed on the command line. */
  readonly defaultText: string;
  /** Accepted values, for messages and the README. */
  readonly accepted: string;
  /** What it controls. */
  readonly doc: string;
  /** Parse and validate; throw a string describing the problem. */
  parse(text: string): T;
}

function intParam<N extends string>(
  name: N,
  def: number,
  min: number,
  max: number,
  doc: string,
): BootParam<number, N> {
  return {
    name,
    defaultText: String(def),
    accepted: `an integer from ${min} to ${max}`,
    doc,
    parse(text) {
      if (!/^-?\d+$/.test(text)) throw 'not an integer';
      const v = Number(text);
      if (v < min || v > max) throw 'out of range';
      return v;
    },
  };
}

function boolParam<N extends string>(name: N, def: boolean, doc: string): BootParam<boolean, N> {
  return {
    name,
    defaultText: def ? '1' : '0',
    accepted: '0, 1, on, off, y, n',
    doc,
    parse(text) {
      const t = text.toLowerCase();
      if (t === '1' || t === 'on' || t === 'y' || t === 'yes' || t === 'true') return true;
      if (t === '0' || t === 'off' || t === 'n' || t === 'no' || t === 'false') return false;
      throw 'not a boolean';
    },
  };
}

function enumParam<T extends string, N extends string>(
  name: N,
  def: T,
  values: readonly T[],
  doc: string,
): BootParam<T, N> {
  return {
    name,
    defaultText: def,
    accepted: values.join(', '),
    doc,
    parse(text) {
      if (!(values as readonly string[]).includes(text)) throw 'not one of the accepted values';
      return text as T;
    },
  };
}

const SIZE_UNITS: Readonly<Record<string, number>> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };

/** `memparse()`: a byte count with an optional K, M or G suffix. */
export function memparse(text: string): number {
  const m = /^(\d+)([KMGkmg]?)$/.exec(text);
  if (m === null) throw 'not a size (e.g. 512M, 2G, 65536K)';
  return Number(m[1]) * SIZE_UNITS[m[2]!.toUpperCase()]!;
}

function sizeParam(
  name: string,
  def: string,
  min: number,
  max: number,
  doc: string,
): BootParam<number> {
  return {
    name,
    defaultText: def,
    accepted: `a size with K/M/G suffix from ${fmtSize(min)} to ${fmtSize(max)}`,
    doc,
    parse(text) {
      const v = memparse(text);
      if (v < min || v > max) throw 'out of range';
      return v;
    },
  };
}

function fmtSize(n: number): string {
  if (n % 1024 ** 3 === 0) return `${n / 1024 ** 3}G`;
  if (n % 1024 ** 2 === 0) return `${n / 1024 ** 2}M`;
  if (n % 1024 === 0) return `${n / 1024}K`;
  return String(n);
}

/** `cpulist_parse()`: `0-3,8,10-11`, or empty for none. */
export function cpulistParse(text: string): number[] {
  if (text === '') return [];
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (m === null) throw `'${part}' is not a CPU number or range`;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw `range '${part}' is backwards`;
    for (let c = a; c <= b; c++) out.add(c);
  }
  return [...out].sort((x, y) => x - y);
}

function cpulistParam<N extends string>(name: N, doc: string): BootParam<readonly number[], N> {
  return {
    name,
    defaultText: '',
    accepted: 'a CPU list such as 0-3,8 (empty for none)',
    doc,
    parse: cpulistParse,
  };
}

/** Every parameter, in README order. */
export const BOOT_PARAMS = [
  intParam('nr_cpus', 4, 1, 1024, 'Number of simulated CPUs.'),
  sizeParam('mem', '512M', 16 * 1024 ** 2, 64 * 1024 ** 3, 'Physical memory size.'),
  enumParam(
    'preempt',
    'full',
    ['none', 'voluntary', 'full', 'rt'] as const,
    'Preemption model; `rt` is PREEMPT_RT.',
  ),
  enumParam(
    'hz',
    '1000',
    ['100', '250', '300', '1000'] as const,
    'Scheduler tick rate (CONFIG_HZ).',
  ),
  intParam('seed', 1, 0, 2 ** 31 - 1, 'Seed of the machine PRNG; same seed, same output.'),
  boolParam('lockdep', true, 'CONFIG_PROVE_LOCKING: lockdep validation.'),
  boolParam(
    'lockdep.keep_going',
    false,
    'Keep reporting after the first lockdep splat (the kernel stops).',
  ),
  boolParam('panic_on_warn', false, 'Panic (stop the run) on the first WARN or BUG report.'),
  enumParam(
    'slab',
    'slub',
    ['slub', 'sheaves'] as const,
    'Slab allocator: the SLUB per-CPU slab design (up to 6.x) or sheaves (7.0).',
  ),
  enumParam(
    'kfree_rcu',
    'batched',
    ['batched', 'sheaf', 'per-object', 'offset-2008', 'naive-atomic-alloc'] as const,
    'kvfree_rcu() design: page arrays (today), rcu sheaf, one call_rcu per object, the 2008 offset-in-func proposal, or GFP_ATOMIC page allocation in any context.',
  ),
  enumParam(
    'slab.nolock_defer',
    'per-cpu',
    ['per-cpu', 'per-cache'] as const,
    'Where kfree_nolock() parks frees it cannot do now: one list per CPU (what landed) or per cache (first proposal).',
  ),
  boolParam(
    'kfree_rcu.no_locks',
    false,
    'With `kfree_rcu=naive-atomic-alloc`, add the never-merged `__GFP_NO_LOCKS`.',
  ),
  boolParam(
    'kfree_rcu.memalloc',
    false,
    'Allocate kvfree_rcu pointer pages with `__GFP_MEMALLOC` (reserves below min), the never-merged 2020 RFC.',
  ),
  intParam(
    'rcutree.rcu_min_cached_objs',
    5,
    0,
    100000,
    'Pages of pointer arrays each CPU keeps cached for kvfree_rcu().',
  ),
  intParam(
    'rcutree.rcu_delay_page_cache_fill_msec',
    5000,
    0,
    100000,
    'Back-off before refilling the kvfree_rcu page cache after memory pressure.',
  ),
  intParam(
    'rcutree.blimit',
    10,
    1,
    10000,
    'Callbacks invoked per RCU softirq pass while the queue is short.',
  ),
  intParam(
    'rcutree.qhimark',
    10000,
    1,
    1000000,
    'Queue length above which the batch limit is lifted.',
  ),
  intParam(
    'rcutree.qlowmark',
    100,
    0,
    1000000,
    'Queue length below which the batch limit returns.',
  ),
  intParam('rcutree.rcu_fanout_leaf', 16, 2, 64, 'CPUs per leaf rcu_node.'),
  intParam(
    'rcupdate.rcu_cpu_stall_timeout',
    21,
    3,
    300,
    'Seconds before an RCU CPU stall warning.',
  ),
  boolParam('rcupdate.rcu_expedited', false, 'Make synchronize_rcu() expedited.'),
  cpulistParam('rcu_nocbs', 'CPUs whose RCU callbacks are offloaded to rcuo kthreads.'),
  intParam(
    'min_free_kbytes',
    0,
    0,
    1048576,
    'vm.min_free_kbytes; 0 computes it from memory size as the kernel does.',
  ),
  intParam('watermark_scale_factor', 10, 1, 3000, 'vm.watermark_scale_factor.'),
  boolParam(
    'page_alloc.trylock_first',
    true,
    'Take zone->lock with a trylock first (6.15+); 0 restores the 2020 behaviour of always spinning.',
  ),
  boolParam('page_alloc.pcp', true, 'Per-CPU page lists.'),
  enumParam(
    'slab_debug',
    'off',
    ['off', 'F', 'FZ', 'FZP', 'FZPU'] as const,
    'SLUB debugging flags for every cache (F sanity, Z red zone, P poison, U user tracking).',
  ),
  boolParam('kasan', false, 'KASAN-like checked loads and stores on slab objects.'),
  sizeParam('cache.l1d', '48K', 1024, 1024 ** 2, 'Per-CPU L1 data cache size.'),
  sizeParam('cache.l2', '2M', 64 * 1024, 64 * 1024 ** 2, 'Per-CPU L2 cache size.'),
  sizeParam('cache.llc', '32M', 256 * 1024, 1024 ** 3, 'Shared last-level cache size.'),
  intParam('cache.dram_ns', 80, 1, 1000, 'DRAM access latency in ns.'),
] as const;

/** Parameter names. */
export type BootParamName = keyof BootOptions;

/** The parsed, validated command line: every parameter present, defaults filled in. */
export interface BootOptions {
  readonly nr_cpus: number;
  readonly mem: number;
  readonly preempt: 'none' | 'voluntary' | 'full' | 'rt';
  readonly hz: '100' | '250' | '300' | '1000';
  readonly seed: number;
  readonly lockdep: boolean;
  readonly 'lockdep.keep_going': boolean;
  readonly panic_on_warn: boolean;
  readonly slab: 'slub' | 'sheaves';
  readonly kfree_rcu: 'batched' | 'sheaf' | 'per-object' | 'offset-2008' | 'naive-atomic-alloc';
  readonly 'slab.nolock_defer': 'per-cpu' | 'per-cache';
  readonly 'kfree_rcu.no_locks': boolean;
  readonly 'kfree_rcu.memalloc': boolean;
  readonly 'rcutree.rcu_min_cached_objs': number;
  readonly 'rcutree.rcu_delay_page_cache_fill_msec': number;
  readonly 'rcutree.blimit': number;
  readonly 'rcutree.qhimark': number;
  readonly 'rcutree.qlowmark': number;
  readonly 'rcutree.rcu_fanout_leaf': number;
  readonly 'rcupdate.rcu_cpu_stall_timeout': number;
  readonly 'rcupdate.rcu_expedited': boolean;
  readonly rcu_nocbs: readonly number[];
  readonly min_free_kbytes: number;
  readonly watermark_scale_factor: number;
  readonly 'page_alloc.trylock_first': boolean;
  readonly 'page_alloc.pcp': boolean;
  readonly slab_debug: 'off' | 'F' | 'FZ' | 'FZP' | 'FZPU';
  readonly kasan: boolean;
  readonly 'cache.l1d': number;
  readonly 'cache.l2': number;
  readonly 'cache.llc': number;
  readonly 'cache.dram_ns': number;
}

const BY_NAME = new Map<string, BootParam>(
  BOOT_PARAMS.map((p) => [p.name as string, p as BootParam]),
);

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j]!;
      row[j] = Math.min(up + 1, row[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length]!;
}

/** The valid parameter nearest to `name`. */
export function nearestParam(name: string): string {
  let best = BOOT_PARAMS[0].name as string;
  let bestD = Number.POSITIVE_INFINITY;
  for (const p of BOOT_PARAMS) {
    // A bare suffix ("blimit") should find the dotted name ("rcutree.blimit").
    const tail = p.name.slice(p.name.indexOf('.') + 1);
    const d = Math.min(editDistance(name, p.name), editDistance(name, tail) + 1);
    if (d < bestD) {
      bestD = d;
      best = p.name;
    }
  }
  return best;
}

/**
 * Parse a kernel-style command line (`nr_cpus=8 preempt=rt lockdep=1 …`).
 * Bare flags mean `=1`. Every value is validated before anything is built.
 * @throws BootParamError naming the parameter, the value and what is accepted.
 */
export function parseCmdline(cmdline: string): BootOptions {
  const out: Record<string, Parsed> = {};
  const given = new Map<string, string>();
  for (const p of BOOT_PARAMS) out[p.name] = p.parse(p.defaultText);
  for (const word of cmdline.trim().split(/\s+/)) {
    if (word === '') continue;
    const eq = word.indexOf('=');
    const name = eq < 0 ? word : word.slice(0, eq);
    const value = eq < 0 ? '1' : word.slice(eq + 1);
    if (name === '') {
      throw new BootParamError(
        'MALFORMED',
        word,
        `malformed boot parameter '${word}': expected name=value`,
      );
    }
    const p = BY_NAME.get(name);
    if (p === undefined) {
      const near = nearestParam(name);
      throw new BootParamError(
        'UNKNOWN_PARAM',
        name,
        `unknown boot parameter '${name}'; did you mean '${near}'? (see the parameter table in the README)`,
        near,
      );
    }
    if (given.has(name)) {
      throw new BootParamError('DUPLICATE', name, `boot parameter '${name}' is given twice`);
    }
    given.set(name, value);
    try {
      out[name] = p.parse(value);
    } catch (why) {
      throw new BootParamError(
        'BAD_VALUE',
        name,
        `bad value '${value}' for boot parameter '${name}' (${String(why)}); accepted: ${p.accepted}`,
      );
    }
  }
  if ((out['rcutree.qlowmark'] as number) > (out['rcutree.qhimark'] as number)) {
    throw new BootParamError(
      'BAD_VALUE',
      'rcutree.qlowmark',
      `rcutree.qlowmark=${out['rcutree.qlowmark']} is above rcutree.qhimark=${out['rcutree.qhimark']}; accepted: qlowmark <= qhimark`,
    );
  }
  // The cache geometry must be buildable (whole, power-of-two set counts).
  const CACHE_FIELD: Readonly<Record<string, string>> = {
    l1: 'cache.l1d',
    l2: 'cache.l2',
    llc: 'cache.llc',
    dramLatencyNs: 'cache.dram_ns',
  };
  try {
    validateCacheConfig(
      makeCacheConfig({
        l1: { sizeBytes: out['cache.l1d'] as number },
        l2: { sizeBytes: out['cache.l2'] as number },
        llc: { sizeBytes: out['cache.llc'] as number },
        dramLatencyNs: out['cache.dram_ns'] as number,
      }),
    );
  } catch (e) {
    if (!(e instanceof CacheConfigError)) throw e;
    const param = CACHE_FIELD[e.field.split('.')[0]!] ?? 'cache.l1d';
    throw new BootParamError(
      'BAD_VALUE',
      param,
      `bad cache geometry for ${param}=${given.get(param) ?? BY_NAME.get(param)?.defaultText}: ${e.message}`,
    );
  }
  const nocbs = out.rcu_nocbs as readonly number[];
  const bad = nocbs.find((c) => c >= (out.nr_cpus as number));
  if (bad !== undefined) {
    throw new BootParamError(
      'BAD_VALUE',
      'rcu_nocbs',
      `rcu_nocbs names CPU ${bad} but nr_cpus=${out.nr_cpus}; accepted: CPUs 0 to ${(out.nr_cpus as number) - 1}`,
    );
  }
  return out as unknown as BootOptions;
}

/** Render the options back as a canonical command line (every parameter, table order). */
export function formatCmdline(o: BootOptions, onlyNonDefault = false): string {
  const words: string[] = [];
  for (const p of BOOT_PARAMS) {
    const v = (o as unknown as Record<string, Parsed>)[p.name]!;
    const text = Array.isArray(v)
      ? (v as number[]).join(',')
      : typeof v === 'boolean'
        ? v
          ? '1'
          : '0'
        : p.name === 'mem' || p.name.startsWith('cache.l')
          ? fmtSize(v as number)
          : String(v);
    if (onlyNonDefault && text === p.defaultText) continue;
    words.push(`${p.name}=${text}`);
  }
  return words.join(' ');
}

/** The README table of parameters (markdown). */
export function bootParamsTable(): string {
  let s = '| parameter | default | accepted | what it controls |\n| --- | --- | --- | --- |\n';
  for (const p of BOOT_PARAMS) {
    s += `| \`${p.name}\` | \`${p.defaultText || '(none)'}\` | ${p.accepted} | ${p.doc} |\n`;
  }
  return s;
}
