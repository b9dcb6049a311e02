import type { ObjectState } from '../contract.js';
/** Object states kept per object for the invariant checker, debugging and KASAN. @internal */
export const ObjState = {
  /** On a slab freelist (the slab's or a CPU's lockless one). */
  FREE: 0,
  /** Handed to a user. */
  ALLOCATED: 1,
  /** In a per-CPU or barn sheaf. */
  SHEAF: 2,
  /** On a deferred-free llist. */
  DEFERRED: 3,
  /** Held back by the KASAN quarantine. */
  QUARANTINE: 4,
  /** In an rcu_free sheaf, waiting for a grace period. */
  RCU_SHEAF: 5,
} as const;

/** The public name of each {@link ObjState}, indexed by state. */
export const OBJ_STATE_NAMES = [
  'free',
  'allocated',
  'sheaf',
  'deferred',
  'quarantined',
  'rcu-sheaf',
] as const satisfies readonly ObjectState[];

const MIN_CLASS = 3;

/**
 * Per-object side tables in typed arrays: a chunk of `objects` entries per
 * slab (power-of-two classes, recycled), holding the object's state, its
 * requested size, and, once enabled, alloc/free tracking.
 * @internal
 */
export class ObjectArena {
  state: Uint8Array;
  origSize: Int32Array;
  allocSite: Int32Array | null = null;
  allocCpu: Int32Array | null = null;
  allocPid: Int32Array | null = null;
  allocWhen: Float64Array | null = null;
  freeSite: Int32Array | null = null;
  freeCpu: Int32Array | null = null;
  freePid: Int32Array | null = null;
  freeWhen: Float64Array | null = null;
  private top = 0;
  private readonly free: number[][] = [];

  constructor(capacity = 1 << 14) {
    this.state = new Uint8Array(capacity);
    this.origSize = new Int32Array(capacity);
    for (let k = 0; k < 32; k++) this.free.push([]);
  }

  get capacity(): number {
    return this.state.length;
  }

  /** Allocate the tracking arrays (first cache with SLAB_STORE_USER or KASAN). */
  enableTracking(): void {
    if (this.allocSite !== null) return;
    const n = this.capacity;
    this.allocSite = new Int32Array(n);
    this.allocCpu = new Int32Array(n);
    this.allocPid = new Int32Array(n);
    this.allocWhen = new Float64Array(n);
    this.freeSite = new Int32Array(n);
    this.freeCpu = new Int32Array(n);
    this.freePid = new Int32Array(n);
    this.freeWhen = new Float64Array(n);
  }

  /** A chunk of `n` entries; returns its base index. */
  alloc(n: number): number {
    const k = Math.max(MIN_CLASS, 32 - Math.clz32(n - 1));
    const list = this.free[k]!;
    if (list.length > 0) return list.pop()!;
    const size = 2 ** k;
    while (this.top + size > this.capacity) this.grow();
    const base = this.top;
    this.top += size;
    return base;
  }

  /** Return the chunk of `n` entries at `base`. */
  release(base: number, n: number): void {
    const k = Math.max(MIN_CLASS, 32 - Math.clz32(n - 1));
    this.free[k]!.push(base);
  }

  private grow(): void {
    const n = this.capacity * 2;
    this.state = copy8(this.state, n);
    this.origSize = copy32(this.origSize, n);
    if (this.allocSite !== null) {
      this.allocSite = copy32(this.allocSite, n);
      this.allocCpu = copy32(this.allocCpu!, n);
      this.allocPid = copy32(this.allocPid!, n);
      this.allocWhen = copy64(this.allocWhen!, n);
      this.freeSite = copy32(this.freeSite!, n);
      this.freeCpu = copy32(this.freeCpu!, n);
      this.freePid = copy32(this.freePid!, n);
      this.freeWhen = copy64(this.freeWhen!, n);
    }
  }
}

function copy8(a: Uint8Array, n: number): Uint8Array {
  const b = new Uint8Array(n);
  b.set(a);
  return b;
}
function copy32(a: Int32Array, n: number): Int32Array {
  const b = new Int32Array(n);
  b.set(a);
  return b;
}
function copy64(a: Float64Array, n: number): Float64Array {
  const b = new Float64Array(n);
  b.set(a);
  return b;
}
