import { TRACK_SIZE } from '../cache-layout.js';
import {
  POISON_END,
  POISON_FREE,
  POISON_INUSE,
  SLUB_RED_ACTIVE,
  SLUB_RED_INACTIVE,
} from '../poison.js';
import { fillBytes, firstMismatch, peekByte, trimEnd } from './byte-pattern.js';
import { PAGE_SIZE } from './constants.js';
import type { KmemCache } from './kmem-cache.js';
import { OBJ_STATE_NAMES, ObjState } from './object-arena.js';
import type { SlabCore } from './slab-core.js';
import { FROZEN, SlabFlag } from './slab-table.js';

const BANNER_EQ = '='.repeat(77);
const BANNER_DASH = '-'.repeat(77);

/** A pointer as the kernel prints it without pointer hashing: the direct-map address. @internal */
export function ptr(addr: number): string {
  if (addr === 0) return '0000000000000000';
  if (addr < 2 ** 36) return `ffff888${addr.toString(16).padStart(9, '0')}`;
  return addr.toString(16).padStart(16, '0');
}

/** One debug report being assembled: the lines and the kind of its first problem. @internal */
export class Rep {
  kind: string | null = null;
  readonly lines: string[] = [];
  readonly details: Record<string, unknown> = {};

  problem(kind: string): void {
    if (this.kind === null) this.kind = kind;
  }
}

/**
 * SLUB's debugging (mm/slub.c under CONFIG_SLUB_DEBUG): object layout
 * patterns (`init_object()`), the checks (`check_object()`, `check_slab()`,
 * `on_freelist()`, `slab_pad_check()`), alloc/free debug processing and the
 * reports ("BUG %s (%s): %s" banners, trailers, hex dumps, "FIX" lines).
 * @internal
 */
export class SlubDebug {
  private readonly siteDebug: number;

  constructor(private readonly core: SlabCore) {
    this.siteDebug = core.m.siteId('slab.debug');
  }

  // ==== patterns ======================================================================

  /** `setup_slab_debug()`: a new slab is all POISON_INUSE. */
  setupSlabDebug(_s: KmemCache, base: number, bytes: number): void {
    fillBytes(this.core.m, base, bytes, POISON_INUSE, this.siteDebug);
  }

  /**
   * `init_object()`: red zones of `val` (0xbb free, 0xcc allocated), poison
   * over the first `poisonSize` bytes (0x6b … 0xa5) when the object itself
   * is poisoned.
   */
  initObject(s: KmemCache, obj: number, val: number, poisonSize = s.objectSize): void {
    const m = this.core.m;
    if (s.redZone) fillBytes(m, obj - s.redLeftPad, s.redLeftPad, val, this.siteDebug);
    if (s.objectPoison) {
      fillBytes(m, obj, poisonSize - 1, POISON_FREE, this.siteDebug);
      fillBytes(m, obj + poisonSize - 1, 1, POISON_END, this.siteDebug);
    }
    if (s.redZone) fillBytes(m, obj + poisonSize, s.inuse - poisonSize, val, this.siteDebug);
  }

  // ==== checks =======================================================================

  private indexOf(s: KmemCache, slab: number, obj: number): number {
    return this.core.objIndex(s, slab, obj);
  }

  /** `check_bytes_and_report()`. */
  private checkBytes(
    s: KmemCache,
    slab: number,
    obj: number,
    what: string,
    start: number,
    value: number,
    bytes: number,
    printObject: boolean,
    rep: Rep,
  ): boolean {
    if (bytes <= 0) return true;
    const m = this.core.m;
    const fault = firstMismatch(m, start, bytes, value, this.siteDebug);
    if (fault < 0) return true;
    const end = trimEnd(m, fault, start + bytes, value);
    const base = this.core.slabs.base[slab]!;
    rep.problem(
      what.includes('Poison')
        ? 'slub-poison'
        : what.includes('Redzone')
          ? 'slub-redzone'
          : 'slub-corrupt',
    );
    rep.lines.push(
      `[${what} overwritten] 0x${ptr(fault)}-0x${ptr(end - 1)} @offset=${fault - base}. First byte 0x${peekByte(m, fault).toString(16)} instead of 0x${value.toString(16)}`,
    );
    if (printObject) this.objectErr(s, slab, obj, 'Object corrupt', rep);
    this.fix(s, `Restoring ${what} 0x${ptr(fault)}-0x${ptr(end - 1)}=0x${value.toString(16)}`, rep);
    fillBytes(m, fault, end - fault, value, this.siteDebug);
    return false;
  }

  /** End of object info: `get_info_end()`. */
  private infoEnd(s: KmemCache): number {
    return s.offset >= s.inuse ? s.inuse + 8 : s.inuse;
  }

  private sizeFromObject(s: KmemCache): number {
    return s.redZone ? s.size - s.redLeftPad : s.size;
  }

  /** Where padding starts after the metadata. */
  private padStart(s: KmemCache): number {
    let off = this.infoEnd(s);
    if (s.storeUser) {
      off += 2 * TRACK_SIZE;
      if (s.origSizeTracked) off += 4;
    }
    return off;
  }

  /** `check_pad_bytes()`. */
  private checkPadBytes(s: KmemCache, slab: number, obj: number, rep: Rep): boolean {
    const off = this.padStart(s);
    const end = this.sizeFromObject(s);
    if (end === off) return true;
    return this.checkBytes(
      s,
      slab,
      obj,
      'Object padding',
      obj + off,
      POISON_INUSE,
      end - off,
      true,
      rep,
    );
  }

  /** `check_object()`: red zones, kmalloc red zone, poison, padding, free pointer. */
  checkObject(s: KmemCache, slab: number, obj: number, val: number, rep: Rep): boolean {
    let ret = true;
    const end = obj + s.objectSize;
    if (s.redZone) {
      if (
        !this.checkBytes(
          s,
          slab,
          obj,
          'Left Redzone',
          obj - s.redLeftPad,
          val,
          s.redLeftPad,
          ret,
          rep,
        )
      )
        ret = false;
      if (
        !this.checkBytes(s, slab, obj, 'Right Redzone', end, val, s.inuse - s.objectSize, ret, rep)
      )
        ret = false;
      if (s.origSizeTracked && val === SLUB_RED_ACTIVE) {
        const i = this.indexOf(s, slab, obj);
        const orig = i >= 0 ? this.core.objs.origSize[i]! : s.objectSize;
        if (
          s.objectSize > orig &&
          !this.checkBytes(
            s,
            slab,
            obj,
            'kmalloc Redzone',
            obj + orig,
            val,
            s.objectSize - orig,
            ret,
            rep,
          )
        )
          ret = false;
      }
    } else if (s.poison && s.objectSize < s.inuse) {
      if (
        !this.checkBytes(
          s,
          slab,
          obj,
          'Alignment padding',
          end,
          POISON_INUSE,
          s.inuse - s.objectSize,
          ret,
          rep,
        )
      )
        ret = false;
    }
    if (s.poison) {
      if (val !== SLUB_RED_ACTIVE && s.objectPoison) {
        if (
          s.objectSize > 1 &&
          !this.checkBytes(s, slab, obj, 'Poison', obj, POISON_FREE, s.objectSize - 1, ret, rep)
        )
          ret = false;
        if (
          !this.checkBytes(
            s,
            slab,
            obj,
            'End Poison',
            obj + s.objectSize - 1,
            POISON_END,
            1,
            ret,
            rep,
          )
        )
          ret = false;
      }
      if (!this.checkPadBytes(s, slab, obj, rep)) ret = false;
    }
    if (s.offset >= s.inuse || val !== SLUB_RED_ACTIVE) {
      const fp = this.core.getFreepointer(s, obj);
      if (!this.core.validPointer(s, slab, fp)) {
        rep.problem('slub-corrupt');
        this.objectErr(s, slab, obj, 'Freepointer corrupt', rep);
        this.core.setFreepointer(s, obj, 0);
        ret = false;
      }
    }
    return ret;
  }

  /** `check_slab()`. */
  private checkSlab(s: KmemCache, slab: number, rep: Rep): boolean {
    const core = this.core;
    const t = core.slabs;
    const maxobj = Math.floor(t.bytes(slab) / s.size);
    const objects = t.objects[slab]!;
    const counters = core.readCounters(slab);
    const inuse = counters % FROZEN;
    if (objects > maxobj) {
      this.slabErr(s, slab, `objects ${objects} > max ${maxobj}`, rep);
      return false;
    }
    if (inuse > objects) {
      this.slabErr(s, slab, `inuse ${inuse} > max ${objects}`, rep);
      return false;
    }
    if (counters >= FROZEN) {
      this.slabErr(s, slab, 'Slab disabled since SLUB metadata consistency check failed', rep);
      return false;
    }
    this.padCheck(s, slab, rep);
    return true;
  }

  /** `slab_pad_check()`: the bytes after the last object are POISON_INUSE. */
  slabPadCheck(s: KmemCache, slab: number): void {
    const rep = new Rep();
    this.padCheck(s, slab, rep);
    this.flush(rep, s);
  }

  private padCheck(s: KmemCache, slab: number, rep: Rep): void {
    if (!s.poison) return;
    const core = this.core;
    const m = core.m;
    const start = core.slabs.base[slab]!;
    const length = core.slabs.bytes(slab);
    const remainder = length % s.size;
    if (remainder === 0) return;
    const pad = start + length - remainder;
    const fault = firstMismatch(m, pad, remainder, POISON_INUSE, this.siteDebug);
    if (fault < 0) return;
    const end = trimEnd(m, fault, start + length, POISON_INUSE);
    rep.problem('slub-corrupt');
    this.bug(
      s,
      `Padding overwritten. 0x${ptr(fault)}-0x${ptr(end - 1)} @offset=${fault - start}`,
      rep,
    );
    this.section('Padding ', pad, remainder, rep);
    this.slabInfo(slab, rep);
    this.fix(
      s,
      `Restoring slab padding 0x${ptr(fault)}-0x${ptr(end - 1)}=0x${POISON_INUSE.toString(16)}`,
      rep,
    );
    fillBytes(m, fault, end - fault, POISON_INUSE, this.siteDebug);
  }

  /**
   * `on_freelist()`: whether `search` is on the slab's freelist, checking the
   * chain and the object count on the way.
   */
  private onFreelist(s: KmemCache, slab: number, search: number, rep: Rep): boolean {
    const core = this.core;
    const objects = core.slabs.objects[slab]!;
    let nr = 0;
    let fp = core.readFreelist(slab);
    let object = 0;
    while (fp !== 0 && nr <= objects) {
      if (fp === search) return true;
      if (!core.validPointer(s, slab, fp)) {
        rep.problem('slub-corrupt');
        if (object !== 0) {
          this.objectErr(s, slab, object, 'Freechain corrupt', rep);
          core.setFreepointer(s, object, 0);
          break;
        }
        this.slabErr(s, slab, 'Freepointer corrupt', rep);
        core.writeSlab(slab, 0, objects);
        this.fix(s, 'Freelist cleared', rep);
        return false;
      }
      object = fp;
      fp = core.getFreepointer(s, object);
      nr++;
    }
    if (nr > objects) {
      rep.problem('slub-corrupt');
      this.slabErr(s, slab, 'Freelist cycle detected', rep);
      core.writeSlab(slab, 0, objects);
      this.fix(s, 'Freelist cleared', rep);
      return false;
    }
    const counters = core.readCounters(slab);
    const inuse = counters % FROZEN;
    if (inuse !== objects - nr) {
      rep.problem('slub-corrupt');
      this.slabErr(
        s,
        slab,
        `Wrong object count. Counter is ${inuse} but counted were ${objects - nr}`,
        rep,
      );
      core.writeSlab(slab, core.readFreelist(slab), counters - inuse + objects - nr);
      this.fix(s, 'Object count adjusted', rep);
    }
    return search === 0;
  }

  /** `alloc_debug_processing()`: checks, then the object is marked active. */
  allocDebugProcessing(s: KmemCache, slab: number, obj: number, origSize: number): boolean {
    const core = this.core;
    const rep = new Rep();
    let ok = true;
    if (s.consistency) {
      if (!this.checkSlab(s, slab, rep)) ok = false;
      else if (!core.validPointer(s, slab, obj)) {
        rep.problem('slub-corrupt');
        this.objectErr(s, slab, obj, 'Freelist Pointer check fails', rep);
        ok = false;
      } else if (!this.checkObject(s, slab, obj, SLUB_RED_INACTIVE, rep)) ok = false;
    }
    if (ok) {
      const i = this.indexOf(s, slab, obj);
      if (i >= 0) core.objs.origSize[i] = origSize;
      this.initObject(s, obj, SLUB_RED_ACTIVE, s.origSizeTracked ? origSize : s.objectSize);
      this.flush(rep, s);
      return true;
    }
    // Mark every object used so nothing else is handed out of this slab.
    this.fix(s, 'Marking all objects used', rep);
    core.writeSlab(slab, 0, core.slabs.objects[slab]! + FROZEN);
    core.slabs.flags[slab] = core.slabs.flags[slab]! | SlabFlag.DISABLED;
    this.flush(rep, s);
    return false;
  }

  /** `free_consistency_checks()` of one object. */
  private freeConsistencyChecks(s: KmemCache, slab: number, obj: number, rep: Rep): boolean {
    if (!this.core.validPointer(s, slab, obj)) {
      rep.problem('slub-bad-free');
      this.slabErr(s, slab, `Invalid object pointer 0x${ptr(obj)}`, rep);
      return false;
    }
    if (this.onFreelist(s, slab, obj, rep)) {
      rep.problem('slub-double-free');
      this.objectErr(s, slab, obj, 'Object already free', rep);
      return false;
    }
    return this.checkObject(s, slab, obj, SLUB_RED_ACTIVE, rep);
  }

  /**
   * `free_debug_processing()` over the detached list head..tail of `cnt`
   * objects: checks, free tracking, objects marked inactive. False refuses
   * the whole free ("Object at … not freed").
   */
  freeDebugProcessing(
    s: KmemCache,
    slab: number,
    head: number,
    tail: number,
    cnt: number,
  ): boolean {
    const rep = new Rep();
    const at = { obj: head };
    const ok = this.freeChecks(s, slab, head, tail, cnt, rep, at);
    if (!ok) this.fix(s, `Object at 0x${ptr(at.obj)} not freed`, rep);
    this.flush(rep, s);
    return ok;
  }

  /** The checks of free_debug_processing(); `at.obj` is left at the object that failed. */
  private freeChecks(
    s: KmemCache,
    slab: number,
    head: number,
    tail: number,
    cnt: number,
    rep: Rep,
    at: { obj: number },
  ): boolean {
    const core = this.core;
    if (s.consistency && !this.checkSlab(s, slab, rep)) return false;
    const inuse = core.readCounters(slab) % FROZEN;
    if (inuse < cnt) {
      rep.problem('slub-corrupt');
      this.slabErr(s, slab, `Slab has ${inuse} allocated objects but ${cnt} are to be freed`, rep);
      return false;
    }
    let obj = head;
    for (let k = 1; k <= cnt; k++) {
      at.obj = obj;
      if (s.consistency && !this.freeConsistencyChecks(s, slab, obj, rep)) return false;
      const i = this.indexOf(s, slab, obj);
      if (s.storeUser && i >= 0) core.trackFree(i);
      // The free pointer is outside the object in every poisoned cache.
      const next = obj !== tail ? core.getFreepointer(s, obj) : 0;
      this.initObject(s, obj, SLUB_RED_INACTIVE);
      if (obj === tail) return true;
      obj = next;
    }
    return false;
  }

  /** free_slab() with SLAB_CONSISTENCY_CHECKS: every object must look free. */
  checkAllObjectsInactive(s: KmemCache, slab: number): void {
    const t = this.core.slabs;
    const rep = new Rep();
    let p = t.base[slab]! + s.redLeftPad;
    for (let k = 0; k < t.objects[slab]!; k++, p += s.size)
      this.checkObject(s, slab, p, SLUB_RED_INACTIVE, rep);
    this.flush(rep, s);
  }

  /**
   * `freelist_corrupted()`: isolate the rest of the chain. The objects cut
   * off are leaked, so the slab's counts are no longer checked.
   */
  freelistCorrupted(s: KmemCache, slab: number, obj: number): void {
    const t = this.core.slabs;
    t.flags[slab] = t.flags[slab]! | SlabFlag.DISABLED;
    const rep = new Rep();
    rep.problem('slub-corrupt');
    this.objectErr(s, slab, obj, 'Freechain corrupt', rep);
    this.fix(s, 'Isolate corrupted freechain', rep);
    this.flush(rep, s);
  }

  // ==== front-end reports ================================================================

  /** A free of an object that is not allocated. */
  doubleFree(s: KmemCache, slab: number, obj: number, i: number): void {
    const core = this.core;
    const state = core.objs.state[i]!;
    const details = { cache: s.name, addr: obj, state: OBJ_STATE_NAMES[state] ?? 'allocated' };
    if (s.consistency) {
      const rep = new Rep();
      rep.problem('slub-double-free');
      this.objectErr(s, slab, obj, 'Object already free', rep);
      this.fix(s, `Object at 0x${ptr(obj)} not freed`, rep);
      Object.assign(rep.details, details);
      this.flush(rep, s);
      return;
    }
    // Without consistency checks the kernel only catches a free of the
    // current freelist head (BUG_ON in set_freepointer()); the simulator's
    // object states catch every double free and report it the same way.
    const m = core.m;
    m.report({
      kind: 'slub-double-free',
      lines: [
        '------------[ cut here ]------------',
        'kernel BUG at mm/slub.c:487!',
        'Oops: invalid opcode: 0000 [#1] SMP NOPTI',
      ],
      details,
      taint: 'D',
      withStack: true,
      frames: ['set_freepointer', 'do_slab_free', 'kfree'],
    });
  }

  /** A free of a pointer into a slab that is not the start of an object. */
  invalidPointer(s: KmemCache, slab: number, obj: number): void {
    const rep = new Rep();
    rep.problem('slub-bad-free');
    this.slabErr(s, slab, `Invalid object pointer 0x${ptr(obj)}`, rep);
    this.fix(s, `Object at 0x${ptr(obj)} not freed`, rep);
    Object.assign(rep.details, { cache: s.name, addr: obj, reason: 'invalid-pointer' });
    this.flush(rep, s);
  }

  /** kmem_cache_destroy() with objects left. */
  reportLeak(s: KmemCache): void {
    const core = this.core;
    const t = core.slabs;
    const rep = new Rep();
    rep.problem('kmem-cache-destroy-leak');
    const addrs: number[] = [];
    for (let slab = s.allHead; slab >= 0; slab = t.allNext[slab]!) {
      this.bug(s, 'Objects remaining on __kmem_cache_shutdown()', rep);
      let p = t.base[slab]! + s.redLeftPad;
      for (let k = 0; k < t.objects[slab]!; k++, p += s.size) {
        const st = core.objs.state[t.objBase[slab]! + k]!;
        if (st === ObjState.FREE) continue;
        addrs.push(p);
        rep.lines.push(`Object 0x${ptr(p)} @offset=${p - t.base[slab]!}`);
        this.tracking(s, t.objBase[slab]! + k, rep);
      }
      this.slabInfo(slab, rep);
    }
    if (s.rcuSheaves > 0)
      rep.lines.push(
        `${s.rcuSheaves} rcu_free sheaves of ${s.name} still wait for a grace period (flushRcuSheaves() and an RCU barrier come first)`,
      );
    rep.lines.push('------------[ cut here ]------------');
    rep.lines.push(
      `kmem_cache_destroy ${s.name}: Slab cache still has objects when called from ${core.m.callSite() || '0x0'}`,
    );
    Object.assign(rep.details, { cache: s.name, objects: addrs.length, addrs });
    core.m.addTaint('W');
    this.flush(rep, s);
  }

  /** `trace()` for SLAB_TRACE caches. */
  traceOp(s: KmemCache, slab: number, obj: number, alloc: boolean): void {
    const core = this.core;
    core.m.printk(
      'info',
      `TRACE ${s.name} ${alloc ? 'alloc' : 'free'} 0x${ptr(obj)} inuse=${core.readCounters(slab) % FROZEN} fp=0x${ptr(core.readFreelist(slab))}`,
    );
  }

  // ==== report pieces ==================================================================

  private bug(s: KmemCache | null, reason: string, rep: Rep): void {
    rep.lines.push(BANNER_EQ);
    rep.lines.push(
      `BUG ${s === null ? '<unknown>' : s.name} (${this.core.m.tainted()}): ${reason}`,
    );
    rep.lines.push(BANNER_DASH);
    rep.lines.push('');
  }

  private fix(s: KmemCache, text: string, rep: Rep): void {
    rep.lines.push(`FIX ${s.name}: ${text}`);
  }

  /** `slab_err()`. */
  private slabErr(s: KmemCache, slab: number, reason: string, rep: Rep): void {
    this.bug(s, reason, rep);
    this.slabInfo(slab, rep);
  }

  /** `object_err()`. */
  private objectErr(s: KmemCache, slab: number, obj: number, reason: string, rep: Rep): void {
    this.bug(s, reason, rep);
    if (obj === 0 || !this.core.validPointer(s, slab, obj)) {
      this.slabInfo(slab, rep);
      rep.lines.push(`Invalid pointer 0x${ptr(obj)}`);
    } else {
      this.trailer(s, slab, obj, rep);
    }
  }

  /** `print_slab_info()`. */
  private slabInfo(slab: number, rep: Rep): void {
    const core = this.core;
    const t = core.slabs;
    const flags = t.flags[slab]!;
    const parts: string[] = [];
    if ((flags & SlabFlag.PARTIAL) !== 0) parts.push('workingset');
    if (t.order[slab]! > 0) parts.push('head');
    parts.push('node=0', 'zone=2');
    const bits = ((flags & SlabFlag.PARTIAL) !== 0 ? 0x200 : 0) | (t.order[slab]! > 0 ? 0x40 : 0);
    rep.lines.push(
      `Slab 0x${ptr(t.desc[slab]!)} objects=${t.objects[slab]} used=${core.readCounters(slab) % FROZEN} fp=0x${ptr(core.readFreelist(slab))} flags=0x${bits.toString(16)}(${parts.join('|')})`,
    );
  }

  /** `print_tracking()`: the last alloc and free call sites. */
  private tracking(s: KmemCache, i: number, rep: Rep): void {
    if (!s.storeUser) return;
    const core = this.core;
    const o = core.objs;
    const j = core.m.jiffies;
    if (o.allocSite !== null && o.allocSite[i] !== 0) {
      rep.lines.push(
        `Allocated in ${core.siteNames[o.allocSite[i]!]} age=${j - o.allocWhen![i]!} cpu=${o.allocCpu![i]} pid=${o.allocPid![i]}`,
      );
    }
    if (o.freeSite !== null && o.freeSite[i] !== 0) {
      rep.lines.push(
        `Freed in ${core.siteNames[o.freeSite[i]!]} age=${j - o.freeWhen![i]!} cpu=${o.freeCpu![i]} pid=${o.freePid![i]}`,
      );
    }
  }

  /** `print_trailer()`. */
  private trailer(s: KmemCache, slab: number, p: number, rep: Rep): void {
    const core = this.core;
    const base = core.slabs.base[slab]!;
    const i = this.indexOf(s, slab, p);
    if (i >= 0) this.tracking(s, i, rep);
    this.slabInfo(slab, rep);
    rep.lines.push(`Object 0x${ptr(p)} @offset=${p - base} fp=0x${ptr(core.getFreepointer(s, p))}`);
    rep.lines.push('');
    if (s.redZone) this.section('Redzone  ', p - s.redLeftPad, s.redLeftPad, rep);
    else if (p > base + 16) this.section('Bytes b4 ', p - 16, 16, rep);
    this.section('Object   ', p, Math.min(s.objectSize, PAGE_SIZE), rep);
    if (s.redZone) this.section('Redzone  ', p + s.objectSize, s.inuse - s.objectSize, rep);
    const off = this.padStart(s);
    const end = this.sizeFromObject(s);
    if (off !== end) this.section('Padding  ', p + off, end - off, rep);
  }

  /** `print_section()`: a hex dump, 16 bytes per row. */
  private section(text: string, addr: number, length: number, rep: Rep): void {
    const m = this.core.m;
    for (let row = 0; row < length; row += 16) {
      const n = Math.min(16, length - row);
      const hex: string[] = [];
      let ascii = '';
      for (let k = 0; k < n; k++) {
        const b = peekByte(m, addr + row + k);
        hex.push(b.toString(16).padStart(2, '0'));
        ascii += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
      }
      rep.lines.push(`${text}${ptr(addr + row)}: ${hex.join(' ').padEnd(49)}${ascii}`);
    }
  }

  /** Emit an assembled report: taint 'B' and the WARN_ON(1) stack. */
  flush(rep: Rep, s: KmemCache): void {
    if (rep.kind === null && rep.lines.length === 0) return;
    const m = this.core.m;
    m.addTaint('W');
    m.report({
      kind: rep.kind ?? 'slub-corrupt',
      lines: rep.lines,
      details: { cache: s.name, ...rep.details },
      taint: 'B',
      withStack: true,
      frames: ['object_err'],
    });
  }
}
