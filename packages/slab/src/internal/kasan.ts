import { ptr } from './debug.js';
import type { KmemCache } from './kmem-cache.js';
import { ObjState } from './object-arena.js';
import type { SlabCore } from './slab-core.js';
import { Stat } from './stat.js';

const RULE = '='.repeat(66);

/**
 * A KASAN-like checker (mm/kasan/): the per-object states and requested sizes
 * stand in for the shadow memory, `checkedLoad`/`checkedStore` play the
 * compiler's instrumentation, and reports follow `print_report()`:
 * "BUG: KASAN: slab-use-after-free in …", the access line, the alloc and free
 * stacks, and where the address sits in its object. An optional quarantine
 * delays reuse of freed objects (generic KASAN's `kasan_quarantine_put()`).
 * @internal
 */
export class Kasan {
  reports = 0;
  private qObj: number[] = [];
  private qCache: number[] = [];
  private qHead = 0;
  qBytes = 0;

  constructor(
    private readonly core: SlabCore,
    readonly enabled: boolean,
    readonly quarantineBytes: number,
  ) {}

  /** Objects held in the quarantine. */
  get quarantined(): number {
    return this.qObj.length - this.qHead;
  }

  /**
   * Check an access of `size` bytes at `addr`; true when fine. Accesses to
   * freed slab objects or beyond the requested size are reported.
   */
  checkAccess(addr: number, size: number, write: boolean): boolean {
    const core = this.core;
    const slab = core.slabOf(addr);
    if (slab < 0) return true;
    const t = core.slabs;
    const s = core.byId[t.cache[slab]!]!;
    // nearest_obj(): the object whose slot holds the address.
    let idx = Math.floor((addr - t.base[slab]! - s.redLeftPad) / s.size);
    if (idx < 0) idx = 0;
    if (idx >= t.objects[slab]!) idx = t.objects[slab]! - 1;
    const obj = t.base[slab]! + s.redLeftPad + idx * s.size;
    const i = t.objBase[slab]! + idx;
    const st = core.objs.state[i]!;
    if (st !== ObjState.ALLOCATED) {
      this.reportAccess(
        'slab-use-after-free',
        s,
        obj,
        i,
        addr,
        size,
        write,
        s.objectSize,
        'freed ',
      );
      return false;
    }
    const orig = core.objs.origSize[i]!;
    if (addr < obj || addr + size > obj + orig) {
      this.reportAccess('slab-out-of-bounds', s, obj, i, addr, size, write, orig, 'allocated ');
      return false;
    }
    return true;
  }

  private reportAccess(
    bugType: string,
    s: KmemCache,
    obj: number,
    i: number,
    addr: number,
    size: number,
    write: boolean,
    regionSize: number,
    regionState: string,
  ): void {
    const m = this.core.m;
    const t = m.current;
    const lines = [
      RULE,
      `BUG: KASAN: ${bugType} in ${m.callSite() || 'kasan_check_range'}`,
      `${write ? 'Write' : 'Read'} of size ${size} at addr ${ptr(addr)} by task ${t.comm}/${t.pid}`,
      '',
    ];
    const tail = this.describe(s, obj, i, addr, regionSize, regionState);
    this.emit(
      bugType === 'slab-use-after-free' ? 'kasan-use-after-free' : 'kasan-out-of-bounds',
      lines,
      tail,
      {
        bugType,
        cache: s.name,
        addr,
        object: obj,
        size,
        write,
      },
    );
  }

  /** A free KASAN refuses: "double-free" or "invalid-free". */
  reportBadFree(
    bugType: 'double-free' | 'invalid-free',
    s: KmemCache,
    slab: number,
    addr: number,
  ): void {
    const core = this.core;
    const m = core.m;
    const t = core.slabs;
    let idx = Math.floor((addr - t.base[slab]! - s.redLeftPad) / s.size);
    if (idx < 0) idx = 0;
    if (idx >= t.objects[slab]!) idx = t.objects[slab]! - 1;
    const obj = t.base[slab]! + s.redLeftPad + idx * s.size;
    const i = t.objBase[slab]! + idx;
    const task = m.current;
    const lines = [
      RULE,
      `BUG: KASAN: ${bugType} in ${m.callSite() || 'kfree'}`,
      `Free of addr ${ptr(addr)} by task ${task.comm}/${task.pid}`,
      '',
    ];
    const freed = core.objs.state[i] !== ObjState.ALLOCATED;
    const tail = this.describe(
      s,
      obj,
      i,
      addr,
      freed ? s.objectSize : core.objs.origSize[i]!,
      freed ? 'freed ' : 'allocated ',
    );
    this.emit(bugType === 'double-free' ? 'kasan-double-free' : 'kasan-invalid-free', lines, tail, {
      bugType,
      cache: s.name,
      addr,
      object: obj,
    });
  }

  /** Seconds since boot of a jiffies stamp. */
  private secs(jiffies: number): string {
    const m = this.core.m;
    return ((jiffies - m.initialJiffies) / m.hz).toFixed(6);
  }

  /** The "Allocated by"/"Freed by" stacks and `describe_object_addr()`. */
  private describe(
    s: KmemCache,
    obj: number,
    i: number,
    addr: number,
    regionSize: number,
    regionState: string,
  ): string[] {
    const o = this.core.objs;
    const names = this.core.siteNames;
    const out: string[] = [];
    if (o.allocSite !== null && o.allocSite[i] !== 0) {
      out.push(
        `Allocated by task ${o.allocPid![i]} on cpu ${o.allocCpu![i]} at ${this.secs(o.allocWhen![i]!)}s:`,
      );
      out.push(` ${names[o.allocSite[i]!]}`, '');
    }
    if (o.freeSite !== null && o.freeSite[i] !== 0 && o.state[i] !== ObjState.ALLOCATED) {
      out.push(
        `Freed by task ${o.freePid![i]} on cpu ${o.freeCpu![i]} at ${this.secs(o.freeWhen![i]!)}s:`,
      );
      out.push(` ${names[o.freeSite[i]!]}`, '');
    }
    out.push(`The buggy address belongs to the object at ${ptr(obj)}`);
    out.push(` which belongs to the cache ${s.name} of size ${s.objectSize}`);
    let rel: string;
    let bytes: number;
    if (addr < obj) {
      rel = 'to the left';
      bytes = obj - addr;
    } else if (addr >= obj + regionSize) {
      rel = 'to the right';
      bytes = addr - (obj + regionSize);
    } else {
      rel = 'inside';
      bytes = addr - obj;
    }
    out.push(`The buggy address is located ${bytes} bytes ${rel} of`);
    out.push(` ${regionState}${regionSize}-byte region [${ptr(obj)}, ${ptr(obj + regionSize)})`);
    out.push('');
    return out;
  }

  private emit(
    kind: string,
    head: string[],
    tail: string[],
    details: Record<string, unknown>,
  ): void {
    this.reports++;
    // One record per bug; the simulated stack is appended after the object description.
    this.core.m.report({
      kind,
      lines: [...head, ...tail, RULE],
      details,
      taint: 'B',
      withStack: true,
      frames: ['kasan_report'],
    });
  }

  // ==== quarantine ======================================================================

  /** `kasan_quarantine_put()`: hold a freed object back; evict the oldest over the budget. */
  quarantinePut(s: KmemCache, obj: number, i: number): void {
    const core = this.core;
    core.objs.state[i] = ObjState.QUARANTINE;
    this.qObj.push(obj);
    this.qCache.push(s.id);
    this.qBytes += s.size;
    core.stat(s, Stat.KASAN_QUARANTINE);
    while (this.qBytes > this.quarantineBytes && this.qHead < this.qObj.length) this.evictOne();
    if (this.qHead > 1024 && this.qHead * 2 > this.qObj.length) {
      this.qObj = this.qObj.slice(this.qHead);
      this.qCache = this.qCache.slice(this.qHead);
      this.qHead = 0;
    }
  }

  private evictOne(): void {
    const obj = this.qObj[this.qHead]!;
    const sid = this.qCache[this.qHead]!;
    this.qHead++;
    if (obj === 0) return;
    this.release(this.core.byId[sid]!, obj);
  }

  private release(s: KmemCache, obj: number): void {
    const core = this.core;
    this.qBytes -= s.size;
    const slab = core.slabOf(obj);
    const i = core.objIndex(s, slab, obj);
    core.objs.state[i] = ObjState.FREE;
    core.freeObject(s, slab, obj, i);
  }

  /** `kasan_cache_shutdown()`/`kasan_cache_shrink()`: free the quarantined objects of `s`. */
  drainCache(s: KmemCache): void {
    for (let k = this.qHead; k < this.qObj.length; k++) {
      if (this.qCache[k] !== s.id || this.qObj[k] === 0) continue;
      const obj = this.qObj[k]!;
      this.qObj[k] = 0;
      this.release(s, obj);
    }
  }

  /** Objects of `s` in the quarantine, for the invariant checker. */
  visit(visit: (s: KmemCache, obj: number) => void): void {
    for (let k = this.qHead; k < this.qObj.length; k++) {
      if (this.qObj[k] !== 0) visit(this.core.byId[this.qCache[k]!]!, this.qObj[k]!);
    }
  }
}
