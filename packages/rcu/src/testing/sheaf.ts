import type { Machine } from '@sim/cpu';
import type { RcuCallback } from '../callbacks.js';
import { RcuError, show } from '../errors.js';
import type { ObjectFreer, RcuSheafProvider } from '../ports.js';

/** What {@link TestRcuSheaf} needs from RCU: queueing callbacks. @public */
export interface RcuSheafHost {
  /** `call_rcu()`. */
  callRcu(head: number, fn: RcuCallback | ((head: number) => void)): void;
  /** Define a callback. */
  defineCallback(name: string, fn: (head: number) => void): RcuCallback;
}

/** Options of {@link TestRcuSheaf}. @public */
export interface TestRcuSheafOptions {
  /** Objects per sheaf (`s->sheaf_capacity`). Default 32. */
  readonly capacity?: number;
  /** Which objects belong to a cache with sheaves. Default: all. */
  readonly owns?: (addr: number) => boolean;
}

/**
 * A stand-in for the slab's `rcu_free` sheaf (mm/slub.c
 * `__kfree_rcu_sheaf()`/`rcu_free_sheaf()`): objects collect in a per-CPU
 * sheaf — an array in simulated memory with an `rcu_head` at its start —
 * that is handed to `call_rcu()` once full; its callback frees every object
 * with one `kfree_bulk()`. `failNext` makes the next calls fail as a
 * contended trylock would. Attach it to RCU with {@link TestRcuSheaf.attach}.
 * Implements {@link RcuSheafProvider}.
 * @public
 */
export class TestRcuSheaf implements RcuSheafProvider {
  /** Objects per sheaf. */
  readonly capacity: number;
  /** Fail the next N calls. */
  failNext = 0;
  /** Sheaves submitted to call_rcu(). */
  submitted = 0;
  /** Sheaves freed after their grace period. */
  freedSheaves = 0;
  private host: RcuSheafHost | null = null;
  private cb: RcuCallback | null = null;
  private readonly current: Float64Array;
  private readonly spare: number[] = [];
  private readonly scratch: Float64Array;
  private readonly owns: (addr: number) => boolean;
  private readonly site: number;

  constructor(
    private readonly m: Machine,
    private readonly freer: ObjectFreer,
    options: TestRcuSheafOptions = {},
  ) {
    const cap = options.capacity ?? 32;
    if (!Number.isInteger(cap) || cap < 1 || cap > 1024) {
      throw new RcuError(
        'BAD_ARGUMENT',
        `TestRcuSheaf capacity ${show(cap)} is invalid: accepted an integer in [1, 1024]`,
      );
    }
    this.capacity = cap;
    this.current = new Float64Array(m.nrCpus);
    this.scratch = new Float64Array(cap);
    this.owns = options.owns ?? (() => true);
    this.site = m.siteId('slab.rcu_sheaf');
  }

  /** Connect to RCU (after `createRcu()`, which takes this provider as a port). */
  attach(host: RcuSheafHost): void {
    this.host = host;
    const self = this;
    this.cb = host.defineCallback('rcu_free_sheaf', function rcu_free_sheaf(head: number) {
      self.freeSheaf(head);
    });
  }

  private newSheaf(): number {
    const s = this.spare.pop();
    if (s !== undefined) return s;
    return this.m.memory.memblockAlloc(24 + this.capacity * 8, 64);
  }

  /** `__kfree_rcu_sheaf()`. */
  kfreeRcuSheaf(addr: number): boolean {
    if (this.host === null || !this.owns(addr)) return false;
    if (this.failNext > 0) {
      this.failNext--;
      return false;
    }
    const m = this.m;
    const c = m.cpu;
    let sheaf = this.current[c]!;
    if (sheaf === 0) {
      sheaf = this.newSheaf();
      m.store(sheaf + 16, 0, this.site);
      this.current[c] = sheaf;
    }
    const n = m.load(sheaf + 16, this.site);
    m.store(sheaf + 24 + n * 8, addr, this.site);
    m.store(sheaf + 16, n + 1, this.site);
    if (n + 1 === this.capacity) {
      this.current[c] = 0;
      this.submit(sheaf);
    }
    return true;
  }

  /** `flush_all_rcu_sheaves()`: submit partially filled sheaves. */
  flushAllRcuSheaves(): void {
    for (let c = 0; c < this.current.length; c++) {
      const s = this.current[c]!;
      if (s === 0) continue;
      this.current[c] = 0;
      this.submit(s);
    }
  }

  private submit(sheaf: number): void {
    this.submitted++;
    this.host!.callRcu(sheaf, this.cb!);
  }

  private freeSheaf(sheaf: number): void {
    const m = this.m;
    const n = m.load(sheaf + 16, this.site);
    for (let i = 0; i < n; i++) this.scratch[i] = m.load(sheaf + 24 + i * 8, this.site);
    this.freer.kfreeBulk(this.scratch, n);
    this.freedSheaves++;
    this.spare.push(sheaf);
  }
}
