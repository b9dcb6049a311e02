import { ObjState } from './object-arena.js';
import type { SlabCore } from './slab-core.js';
import { D_FLUSH, FROZEN, SlabFlag } from './slab-table.js';

const NAMES = ['free', 'allocated', 'sheaf', 'deferred', 'quarantined', 'rcu-sheaf'];

/**
 * The invariant checker: every object of every slab is in exactly one place
 * (a slab freelist, a CPU freelist, a sheaf, a deferred list, the quarantine)
 * matching its recorded state, or allocated; slab counters, list membership
 * and node counters agree with the lists; and every page the allocator holds
 * was taken from the page allocator and not given back.
 * @internal
 */
export function checkInvariants(core: SlabCore): string[] {
  const problems: string[] = [];
  const add = (p: string): void => {
    if (problems.length < 50) problems.push(p);
  };
  const t = core.slabs;
  const objs = core.objs;
  const mem = core.m.memory;
  const seen = new Uint8Array(objs.capacity);
  const where: string[] = [];
  const expect = (obj: number, state: number, place: string): void => {
    const slab = core.slabOf(obj);
    if (slab < 0) {
      add(`${place}: 0x${obj.toString(16)} is not in a slab`);
      return;
    }
    const s = core.byId[t.cache[slab]!]!;
    const i = core.objIndex(s, slab, obj);
    if (i < 0) {
      add(`${place}: 0x${obj.toString(16)} is not an object of ${s.name}`);
      return;
    }
    if (seen[i] !== 0) {
      add(`${s.name}: object 0x${obj.toString(16)} is both on ${where[i]} and on ${place}`);
      return;
    }
    seen[i] = 1;
    where[i] = place;
    if (objs.state[i] !== state) {
      add(
        `${s.name}: object 0x${obj.toString(16)} on ${place} has state ${NAMES[objs.state[i]!]}, expected ${NAMES[state]}`,
      );
    }
  };

  let pagesFromSlabs = 0;
  for (const s of core.byId) {
    let count = 0;
    let objects = 0;
    const onPartial = new Set<number>();
    let n = 0;
    for (let slab = s.partialHead; slab >= 0 && n <= t.size; slab = t.next[slab]!, n++)
      onPartial.add(slab);
    if (onPartial.size !== s.nrPartial)
      add(`${s.name}: nr_partial ${s.nrPartial} but ${onPartial.size} slabs on the partial list`);
    for (let slab = s.allHead; slab >= 0; slab = t.allNext[slab]!) {
      count++;
      objects += t.objects[slab]!;
      if (t.live[slab] !== 1) add(`${s.name}: slab ${slab} on the cache list is not live`);
      if (t.cache[slab] !== s.id) add(`${s.name}: slab ${slab} belongs to cache ${t.cache[slab]}`);
      const pfn = t.pfn[slab]!;
      for (let k = 0; k < 2 ** t.order[slab]!; k++) {
        if (core.pfnMap.get(pfn + k) !== slab + 1)
          add(`${s.name}: pfn ${pfn + k} of slab ${slab} is not mapped to it`);
      }
      if (core.outstanding.get(pfn) !== t.order[slab])
        add(`${s.name}: slab pages at pfn ${pfn} were not taken from the page allocator`);
      pagesFromSlabs += 2 ** t.order[slab]!;
      const flags = t.flags[slab]!;
      if (((flags & SlabFlag.PARTIAL) !== 0) !== onPartial.has(slab))
        add(`${s.name}: slab ${slab} SL_partial flag disagrees with the partial list`);
      if ((flags & SlabFlag.DISABLED) !== 0) continue;
      const counters = t.counters[slab]!;
      const inuse = counters % FROZEN;
      const frozen = counters >= FROZEN;
      let len = 0;
      let fp = t.freelist[slab]!;
      while (fp !== 0 && len <= t.objects[slab]!) {
        expect(fp, ObjState.FREE, `${s.name} slab ${slab} freelist`);
        len++;
        fp = mem.read(fp + s.offset);
      }
      if (len > t.objects[slab]!) add(`${s.name}: slab ${slab} freelist has a cycle`);
      if (inuse + len !== t.objects[slab])
        add(`${s.name}: slab ${slab} inuse ${inuse} + ${len} free != ${t.objects[slab]} objects`);
      if (onPartial.has(slab) && frozen)
        add(`${s.name}: frozen slab ${slab} is on the partial list`);
      if (onPartial.has(slab) && len === 0)
        add(`${s.name}: full slab ${slab} is on the partial list`);
      if (!onPartial.has(slab) && !frozen && (flags & SlabFlag.CPU_PARTIAL) === 0 && len > 0) {
        add(`${s.name}: slab ${slab} has ${len} free objects but is on no list`);
      }
      if (frozen && !core.isCpuSlab(s, slab) && (flags & SlabFlag.DEFERRED) === 0)
        add(`${s.name}: slab ${slab} is frozen but no CPU owns it`);
      if ((flags & SlabFlag.DEFERRED) !== 0) {
        let f = mem.read(t.desc[slab]! + D_FLUSH);
        let k = 0;
        while (f !== 0 && k++ <= t.objects[slab]!) {
          expect(f, ObjState.FREE, `${s.name} slab ${slab} deferred flush freelist`);
          f = mem.read(f + s.offset);
        }
      }
    }
    if (count !== s.nrSlabs) add(`${s.name}: nr_slabs ${s.nrSlabs} but ${count} slabs`);
    if (objects !== s.totalObjects)
      add(`${s.name}: total_objects ${s.totalObjects} but ${objects} objects`);
    core.visitPerCpu(s, expect);
  }
  core.defer.visit((obj) => expect(obj, ObjState.DEFERRED, 'a deferred-free list'));
  core.kasan.visit((_s, obj) => expect(obj, ObjState.QUARANTINE, 'the KASAN quarantine'));

  // Everything not found anywhere must be allocated.
  for (const s of core.byId) {
    for (let slab = s.allHead; slab >= 0; slab = t.allNext[slab]!) {
      if ((t.flags[slab]! & SlabFlag.DISABLED) !== 0) continue;
      const b = t.objBase[slab]!;
      for (let k = 0; k < t.objects[slab]!; k++) {
        if (seen[b + k] === 0 && objs.state[b + k] !== ObjState.ALLOCATED) {
          const addr = t.base[slab]! + s.redLeftPad + k * s.size;
          add(
            `${s.name}: object 0x${addr.toString(16)} has state ${NAMES[objs.state[b + k]!]} but is on no list (lost)`,
          );
        }
      }
    }
  }

  // Pages: slabs (live and waiting for RCU) + large kmalloc = what was taken.
  let rcuPages = 0;
  for (let id = 0; id < t.size; id++) {
    if (t.live[id] === 1 && (t.flags[id]! & SlabFlag.RCU) !== 0) rcuPages += 2 ** t.order[id]!;
  }
  if (pagesFromSlabs + rcuPages !== core.slabPages)
    add(`slab pages: ${core.slabPages} counted but ${pagesFromSlabs + rcuPages} in slabs`);
  let taken = 0;
  for (const order of core.outstanding.values()) taken += 2 ** order;
  if (taken !== core.slabPages + core.largePages)
    add(`pages taken from the page allocator: ${taken}, held: ${core.slabPages + core.largePages}`);
  return problems;
}
