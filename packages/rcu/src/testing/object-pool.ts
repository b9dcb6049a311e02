import type { Machine } from '@sim/cpu';
import { RcuError, show } from '../errors.js';
import type { ObjectFreer } from '../ports.js';

/** Options of {@link TestObjectPool}. @public */
export interface TestObjectPoolOptions {
  /** Bytes per object, a multiple of 8. Default 64. */
  readonly objectSize?: number;
  /** Most objects ever live at once. Default 262144. */
  readonly capacity?: number;
  /** Cache name printed in reports. Default `kmalloc-<size>`. */
  readonly name?: string;
  /**
   * Where the free pointer is written into a freed object, as SLUB places it
   * (the middle of the object). Default `floor(size / 2 / 8) * 8`.
   */
  readonly freePointerOffset?: number;
  /** Write the free pointer into freed objects (so freeing touches them, as SLUB does). Default true. */
  readonly touchOnFree?: boolean;
  /** Keep a log of frees with their virtual time. Default false. */
  readonly recordFrees?: boolean;
}

/** One recorded free. @public */
export interface TestFreeRecord {
  /** Object freed. */
  readonly addr: number;
  /** Virtual time of the free (ns). */
  readonly time: number;
  /** CPU that freed it. */
  readonly cpu: number;
}

const LIVE = 1;
const FREED = 2;

/**
 * A small slab stand-in for tests and examples: fixed-size objects in
 * simulated memory with per-CPU LIFO reuse (so a premature free is quickly reused),
 * `kfree`/`kfree_bulk` that write the free pointer into the object as SLUB
 * does, a free log with virtual times, and KASAN-like checked loads and
 * stores that report "BUG: KASAN: slab-use-after-free" (kind
 * 'kasan-use-after-free') and double frees ('kasan-double-free').
 * Implements {@link ObjectFreer}.
 * @public
 */
export class TestObjectPool implements ObjectFreer {
  /** Bytes per object. */
  readonly objectSize: number;
  /** Cache name. */
  readonly name: string;
  /** First object's address. */
  readonly base: number;
  /** Most objects the pool can hand out. */
  readonly capacity: number;
  /** Frees recorded (when `recordFrees`). */
  readonly frees: TestFreeRecord[] = [];
  /** Objects allocated over the pool's life. */
  allocated = 0;
  /** Objects freed over the pool's life. */
  freed = 0;
  /** Use-after-free and double-free reports made. */
  kasanReports = 0;
  private readonly state: Uint8Array;
  /** Per-CPU free lists (as a slab's per-CPU freelists): a head per CPU, links per object. */
  private readonly freeHead: Int32Array;
  private readonly freeNext: Int32Array;
  private next = 0;
  private readonly freeOffset: number;
  private readonly touch: boolean;
  private readonly record: boolean;
  private readonly allocPid: Int32Array;
  private readonly freePid: Int32Array;
  private readonly site: number;
  private readonly siteUse: number;

  constructor(
    private readonly m: Machine,
    options: TestObjectPoolOptions = {},
  ) {
    const size = options.objectSize ?? 64;
    if (!Number.isInteger(size) || size < 16 || size % 8 !== 0) {
      throw new RcuError(
        'BAD_ARGUMENT',
        `TestObjectPool objectSize ${show(size)} is invalid: accepted a multiple of 8 ≥ 16`,
      );
    }
    const cap = options.capacity ?? 262144;
    if (!Number.isInteger(cap) || cap < 1) {
      throw new RcuError(
        'BAD_ARGUMENT',
        `TestObjectPool capacity ${show(cap)} is invalid: accepted an integer ≥ 1`,
      );
    }
    this.objectSize = size;
    this.capacity = cap;
    this.name = options.name ?? `kmalloc-${size}`;
    this.freeOffset = options.freePointerOffset ?? Math.floor(size / 16) * 8;
    this.touch = options.touchOnFree ?? true;
    this.record = options.recordFrees ?? false;
    // The range is reserved but pages only materialise when touched.
    this.base = m.memory.memblockAlloc(size * cap, 4096);
    this.state = new Uint8Array(cap);
    this.freeHead = new Int32Array(m.nrCpus).fill(-1);
    this.freeNext = new Int32Array(cap);
    this.allocPid = new Int32Array(cap);
    this.freePid = new Int32Array(cap);
    this.site = m.siteId('slab.free');
    this.siteUse = m.siteId('slab.object');
  }

  /** Objects allocated and not freed. */
  get live(): number {
    return this.allocated - this.freed;
  }

  /**
   * `kmalloc()`: the object most recently freed on this CPU, else a fresh
   * one, else one freed on another CPU; 0 when the pool is exhausted.
   */
  alloc(): number {
    const heads = this.freeHead;
    let c = this.m.cpu;
    let i = heads[c]!;
    if (i < 0) {
      if (this.next < this.capacity) {
        i = this.next++;
      } else {
        for (c = 0; c < heads.length && heads[c]! < 0; c++);
        if (c === heads.length) return 0;
        i = heads[c]!;
      }
    }
    if (i === heads[c]) heads[c] = this.freeNext[i]!;
    this.state[i] = LIVE;
    this.allocPid[i] = this.m.current.pid;
    this.allocated++;
    return this.base + i * this.objectSize;
  }

  /** Whether `addr` lies inside an object of this pool. */
  owns(addr: number): boolean {
    return addr >= this.base && addr < this.base + this.capacity * this.objectSize;
  }

  /** Whether the object containing `addr` is allocated. */
  isLive(addr: number): boolean {
    return this.owns(addr) && this.state[Math.floor((addr - this.base) / this.objectSize)] === LIVE;
  }

  /** `kfree()`. */
  kfree(addr: number): void {
    if (addr === 0) return;
    const i = this.indexOf(addr, 'kfree');
    if (i < 0) return;
    if (this.state[i] !== LIVE) {
      this.kasan('double-free', addr, i, 'kfree', 0);
      return;
    }
    const m = this.m;
    this.state[i] = FREED;
    this.freePid[i] = m.current.pid;
    this.push(m.cpu, i, addr);
    if (this.record) this.frees.push({ addr, time: m.now(), cpu: m.cpu });
  }

  /** `kfree_bulk()`: zero entries are skipped. */
  kfreeBulk(addrs: Float64Array | number[], count: number): void {
    const m = this.m;
    const pid = m.current.pid;
    const cpu = m.cpu;
    const size = this.objectSize;
    const base = this.base;
    const end = base + this.capacity * size;
    for (let k = 0; k < count; k++) {
      const a = addrs[k]!;
      if (a === 0) continue;
      const i = (a - base) / size;
      // Anything unusual takes the checked path.
      if (a < base || a >= end || i !== Math.floor(i) || this.state[i] !== LIVE || this.record) {
        this.kfree(a);
        continue;
      }
      this.state[i] = FREED;
      this.freePid[i] = pid;
      this.push(cpu, i, a);
    }
  }

  /** Push object `i` on CPU `c`'s free list, writing the free pointer into it as SLUB does. */
  private push(c: number, i: number, addr: number): void {
    const heads = this.freeHead;
    const old = heads[c]!;
    this.freeNext[i] = old;
    heads[c] = i;
    this.freed++;
    if (this.touch)
      this.m.store(
        addr + this.freeOffset,
        old < 0 ? 0 : this.base + old * this.objectSize,
        this.site,
      );
  }

  /** `kvfree()`. */
  kvfree(addr: number): void {
    this.kfree(addr);
  }

  /** `ksize()`. */
  ksize(_addr: number): number {
    return this.objectSize;
  }

  /** A KASAN-checked 8-byte load from an object (`READ_ONCE()` under KASAN). */
  load(addr: number, site?: number): number {
    if (!this.isLive(addr) && this.owns(addr)) {
      const i = Math.floor((addr - this.base) / this.objectSize);
      this.kasan(
        'slab-use-after-free',
        addr,
        i,
        this.m.callSite() || 'kasan_check_read',
        8,
        'Read',
      );
    }
    return this.m.load(addr, site ?? this.siteUse);
  }

  /** A KASAN-checked 8-byte store into an object. */
  store(addr: number, value: number, site?: number): void {
    if (!this.isLive(addr) && this.owns(addr)) {
      const i = Math.floor((addr - this.base) / this.objectSize);
      this.kasan(
        'slab-use-after-free',
        addr,
        i,
        this.m.callSite() || 'kasan_check_write',
        8,
        'Write',
      );
    }
    this.m.store(addr, value, site ?? this.siteUse);
  }

  private indexOf(addr: number, fn: string): number {
    if (!this.owns(addr) || (addr - this.base) % this.objectSize !== 0) {
      this.kasan('invalid-free', addr, -1, fn, 0);
      return -1;
    }
    return (addr - this.base) / this.objectSize;
  }

  private kasan(
    type: string,
    addr: number,
    i: number,
    fn: string,
    size: number,
    rw = 'Free',
  ): void {
    const m = this.m;
    const t = m.current;
    this.kasanReports++;
    const hex = `ffff8880${addr.toString(16).padStart(8, '0')}`;
    const lines = [
      '==================================================================',
      `BUG: KASAN: ${type} in ${fn}+0x0/0x40`,
      size > 0
        ? `${rw} of size ${size} at addr ${hex} by task ${t.comm}/${t.pid}`
        : `Free of addr ${hex} by task ${t.comm}/${t.pid}`,
    ];
    const tail: string[] = [];
    if (i >= 0) {
      tail.push(`Allocated by task ${this.allocPid[i]}:`);
      if (this.state[i] === FREED) tail.push(`Freed by task ${this.freePid[i]}:`);
      const objAddr = this.base + i * this.objectSize;
      tail.push(
        `The buggy address belongs to the object at ffff8880${objAddr.toString(16).padStart(8, '0')}`,
        ` which belongs to the cache ${this.name} of size ${this.objectSize}`,
        `The buggy address is located ${addr - objAddr} bytes inside of`,
        ` freed ${this.objectSize}-byte region`,
      );
    }
    tail.push('==================================================================');
    m.report({
      kind: `kasan-${type}`,
      lines: [...lines, ...tail],
      details: { addr, cache: this.name, type },
      taint: 'B',
      withStack: true,
    });
  }
}
