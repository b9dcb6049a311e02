import type { Machine, Wait } from '@sim/cpu';
import type { Locking } from '@sim/locks';
import type { CallRcuPath } from '../call-rcu.js';
import type { ResolvedRcuOptions } from '../options.js';
import type {
  ObjectFreer,
  RcuPageAllocator,
  RcuSheafProvider,
  ShrinkerRegistry,
} from '../ports.js';
import type { RcuState } from '../rcu-state.js';
import type { GpWaiters } from '../synchronize.js';

/**
 * What every kvfree_rcu design shares: the RCU core, the ports, and the
 * accounting of objects queued and freed (with the oracle's free check).
 * @internal
 */
export class KvfreeContext {
  queued = 0;
  freed = 0;
  leaked = 0;
  headlessInline = 0;
  chained = 0;
  sheafQueued = 0;
  /** Pending objects' bytes, when the freer can size them. */
  pendingBytes = 0;
  private warnedDouble = false;
  private readonly queuedPtrs: Set<number> | null;
  private readonly ksize: ((addr: number) => number) | null;
  readonly m: Machine;

  constructor(
    readonly rs: RcuState,
    readonly locking: Locking,
    readonly call: CallRcuPath,
    readonly waiters: GpWaiters,
    readonly freer: ObjectFreer,
    readonly pages: RcuPageAllocator,
    readonly shrinkers: ShrinkerRegistry,
    readonly sheaf: RcuSheafProvider | null,
    readonly rcuBarrier: () => Generator<Wait<unknown>, void, unknown>,
  ) {
    this.m = rs.m;
    this.queuedPtrs = rs.opts.debugObjectsRcuHead ? new Set<number>() : null;
    this.ksize = freer.ksize === undefined ? null : freer.ksize.bind(freer);
  }

  get opts(): ResolvedRcuOptions {
    return this.rs.opts;
  }

  /** Account an object entering the machinery. */
  noteQueued(ptr: number): void {
    this.queued++;
    if (this.ksize !== null) this.pendingBytes += this.ksize(ptr);
  }

  /**
   * `debug_rcu_head_queue(ptr)` of `kvfree_call_rcu()`: false (and the
   * kernel's WARN_ONCE, the object leaked) if `ptr` is already queued.
   */
  debugQueue(ptr: number, head: number): boolean {
    const q = this.queuedPtrs;
    if (q === null) return true;
    if (!q.has(ptr)) {
      q.add(ptr);
      return true;
    }
    this.leaked++;
    if (!this.warnedDouble) {
      this.warnedDouble = true;
      this.m.warn({
        kind: 'rcu-double-free',
        site: 'mm/slab_common.c',
        fn: 'kvfree_call_rcu',
        message: `kvfree_call_rcu(): Double-freed call. rcu_head ${head.toString(16).padStart(16, '0')}`,
        details: { ptr, head },
      });
    }
    return false;
  }

  /** `debug_rcu_head_unqueue(ptr)`. */
  debugUnqueue(ptr: number): void {
    if (this.queuedPtrs !== null) this.queuedPtrs.delete(ptr);
  }

  /** Account one object freed (oracle check included). */
  private noteFreed(ptr: number): void {
    this.freed++;
    if (this.queuedPtrs !== null) this.queuedPtrs.delete(ptr);
    const oracle = this.rs.oracle;
    if (oracle !== null) oracle.onFree(ptr);
    if (this.ksize !== null) this.pendingBytes -= this.ksize(ptr);
  }

  /** `kvfree(ptr)`. */
  kvfree(ptr: number): void {
    this.noteFreed(ptr);
    const fr = this.freer;
    if (fr.kvfree !== undefined) fr.kvfree(ptr);
    else fr.kfree(ptr);
  }

  /** `kfree(ptr)`. */
  kfree(ptr: number): void {
    this.noteFreed(ptr);
    this.freer.kfree(ptr);
  }

  /** `kfree_bulk(count, ptrs)`. */
  kfreeBulk(ptrs: Float64Array, count: number): void {
    for (let i = 0; i < count; i++) this.noteFreed(ptrs[i]!);
    this.freer.kfreeBulk(ptrs, count);
  }

  /** `is_vmalloc_addr(ptr)`. */
  isVmalloc(ptr: number): boolean {
    const fr = this.freer;
    return fr.isVmallocAddr?.(ptr) === true;
  }
}
