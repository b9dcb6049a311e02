import { LockdepError } from './errors.js';
import { LOCK_TRACE_STATES } from './usage.js';
import { checkClassDesc, effectiveWaitType, type LockClassDesc } from './wait-types.js';

/** MAX_LOCKDEP_KEYS: lock classes lockdep can hold (CONFIG_LOCKDEP_BITS default). @public */
export const MAX_LOCKDEP_KEYS = 8192;
/** MAX_LOCKDEP_SUBCLASSES: nesting subclasses per key (`spin_lock_nested()`). @public */
export const MAX_LOCKDEP_SUBCLASSES = 8;

/**
 * The lock-class table: every class lockdep knows, with its name, wait
 * types, usage bits and usage traces, in typed arrays indexed by class id
 * (ids start at 1; 0 is "no class"). Models `lock_classes[]`,
 * `register_lock_class()` and `count_matching_names()` (lockdep.c).
 *
 * A class is identified by (name, key): locks initialised at the same site
 * pass the same key and share a class; another key with the same name gets a
 * new class printed as `name#2`. Each subclass of a class is a class of its
 * own, printed `name/1`.
 * @internal
 */
export class LockClassTable {
  /** Highest class id in use. */
  count = 0;
  /** Base (subclass 0) class of each class. */
  base = new Int32Array(256);
  /** Subclass number of each class. */
  subclass = new Uint8Array(256);
  /** Effective inner wait type (after the RAW-nesting fold). */
  inner = new Uint8Array(256);
  /** Effective outer wait type, 0 when unset. */
  outer = new Uint8Array(256);
  /** Lock-type code (normal / percpu / wait-override). */
  lockType = new Uint8Array(256);
  /** Usage bits (`class->usage_mask`). */
  usage = new Uint16Array(256);
  /** `name_version`: 1 for the first class of a name, 2 for the next... */
  nameVersion = new Int32Array(256);
  /** Subclass table: `sub[base * 8 + n]` is the class of subclass n, 0 if not created. */
  sub = new Int32Array(256 * MAX_LOCKDEP_SUBCLASSES);
  /** Class names as registered. */
  readonly names: string[] = [''];
  /** Names as printed: name, `#version`, `/subclass`. */
  readonly printNames: string[] = [''];
  /** Nominal descriptors, to detect conflicting re-registration. */
  readonly descs: LockClassDesc[] = [{ inner: 0 }];
  /** Stack traces of the first time each usage bit was set (`usage_traces[]`). */
  usageTraces: (readonly string[] | null)[] = [];
  private readonly byKey = new Map<unknown, Map<string, number>>();

  constructor(private readonly proveRawLockNesting: boolean) {}

  /** Find the class for (name, key) or create it. Throws on a bad descriptor. */
  register(name: string, desc: LockClassDesc, key: unknown): number {
    if (typeof name !== 'string' || name.length === 0) {
      throw new LockdepError(
        'BAD_NAME',
        `lock class name ${JSON.stringify(name)} is invalid; accepted: a non-empty string`,
      );
    }
    const lockType = checkClassDesc(name, desc);
    const k = key === undefined ? name : key;
    let names = this.byKey.get(k);
    const found = names?.get(name);
    if (found !== undefined) {
      const old = this.descs[found];
      if (
        old !== undefined &&
        (old.inner !== desc.inner ||
          (old.outer ?? 0) !== (desc.outer ?? 0) ||
          (old.lockType ?? 'normal') !== (desc.lockType ?? 'normal'))
      ) {
        throw new LockdepError(
          'CLASS_MISMATCH',
          `lock class "${name}" is already registered with this key as ${JSON.stringify(old)}; got ${JSON.stringify(desc)}`,
        );
      }
      return found;
    }
    if (this.count + 1 >= MAX_LOCKDEP_KEYS) {
      throw new LockdepError(
        'TOO_MANY_CLASSES',
        `cannot register lock class "${name}": MAX_LOCKDEP_KEYS (${MAX_LOCKDEP_KEYS}) classes already exist`,
      );
    }
    let version = 0;
    for (let c = 1; c <= this.count; c++) {
      if (this.subclass[c] === 0 && this.names[c] === name) {
        version = Math.max(version, this.nameVersion[c] ?? 0);
      }
    }
    const id = this.alloc(name, desc, lockType, version + 1, 0, 0);
    if (names === undefined) {
      names = new Map();
      this.byKey.set(k, names);
    }
    names.set(name, id);
    return id;
  }

  /**
   * The class for subclass `n` of base class `base`, creating it on first
   * use; 0 when the table is full (the caller reports the limit).
   */
  subclassOf(base: number, n: number): number {
    const slot = base * MAX_LOCKDEP_SUBCLASSES + n;
    const have = this.sub[slot] ?? 0;
    if (have !== 0) return have;
    if (this.count + 1 >= MAX_LOCKDEP_KEYS) return 0;
    const desc = this.descs[base] ?? { inner: 0 };
    const id = this.alloc(
      this.names[base] ?? '',
      desc,
      this.lockType[base] ?? 0,
      this.nameVersion[base] ?? 1,
      n,
      base,
    );
    this.sub[slot] = id;
    return id;
  }

  private alloc(
    name: string,
    desc: LockClassDesc,
    lockType: number,
    version: number,
    subclass: number,
    base: number,
  ): number {
    const id = ++this.count;
    if (id >= this.base.length) this.grow(this.base.length * 2);
    this.base[id] = base === 0 ? id : base;
    this.subclass[id] = subclass;
    this.inner[id] = effectiveWaitType(desc.inner, this.proveRawLockNesting);
    this.outer[id] = effectiveWaitType(desc.outer ?? 0, this.proveRawLockNesting);
    this.lockType[id] = lockType;
    this.usage[id] = 0;
    this.nameVersion[id] = version;
    this.names[id] = name;
    this.printNames[id] =
      name + (version > 1 ? `#${version}` : '') + (subclass !== 0 ? `/${subclass}` : '');
    this.descs[id] = desc;
    if (base === 0) this.sub[id * MAX_LOCKDEP_SUBCLASSES] = id;
    for (let b = 0; b < LOCK_TRACE_STATES; b++) this.usageTraces[id * LOCK_TRACE_STATES + b] = null;
    return id;
  }

  private grow(n: number): void {
    const g32 = (a: Int32Array, len: number) => {
      const b = new Int32Array(len);
      b.set(a);
      return b;
    };
    const g8 = (a: Uint8Array) => {
      const b = new Uint8Array(n);
      b.set(a);
      return b;
    };
    this.base = g32(this.base, n);
    this.subclass = g8(this.subclass);
    this.inner = g8(this.inner);
    this.outer = g8(this.outer);
    this.lockType = g8(this.lockType);
    const u = new Uint16Array(n);
    u.set(this.usage);
    this.usage = u;
    this.nameVersion = g32(this.nameVersion, n);
    this.sub = g32(this.sub, n * MAX_LOCKDEP_SUBCLASSES);
  }

  /** Outer wait type as printed: outer, or inner when outer is unset. */
  printOuter(c: number): number {
    const o = this.outer[c] ?? 0;
    return o !== 0 ? o : (this.inner[c] ?? 0);
  }
}
