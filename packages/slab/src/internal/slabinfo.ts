import type { KmemCacheStats, SlabStats } from '../contract.js';
import { SLAB_STAT_NAMES, type SlabStatName } from '../stat-items.js';
import type { KmemCache } from './kmem-cache.js';
import { ObjState } from './object-arena.js';
import type { SlabCore } from './slab-core.js';
import { FROZEN } from './slab-table.js';
import { NR_STAT_ITEMS } from './stat.js';

function pad(n: number, w: number): string {
  return String(n).padStart(w);
}

/**
 * `/proc/slabinfo` (mm/slab_common.c `slab_show()` with SLUB's
 * `get_slabinfo()`): active objects are all objects minus the free objects
 * of node partial slabs, so objects free in CPU slabs or sheaves count as
 * active, as in the kernel.
 * @internal
 */
export function formatSlabinfo(core: SlabCore): string {
  const lines = [
    'slabinfo - version: 2.1',
    '# name            <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>',
  ];
  for (let id = core.byId.length - 1; id >= 0; id--) {
    const s = core.byId[id]!;
    if (s.life !== 'live') continue;
    let free = 0;
    for (let slab = s.partialHead; slab >= 0; slab = core.slabs.next[slab]!) {
      free += core.slabs.objects[slab]! - (core.slabs.counters[slab]! % FROZEN);
    }
    const active = s.totalObjects - free;
    lines.push(
      `${s.name.padEnd(17)} ${pad(active, 6)} ${pad(s.totalObjects, 6)} ${pad(s.size, 6)} ${pad(s.objectsPerSlab, 4)} ${pad(2 ** s.order, 4)} : tunables ${pad(0, 4)} ${pad(0, 4)} ${pad(0, 4)} : slabdata ${pad(s.nrSlabs, 6)} ${pad(s.nrSlabs, 6)} ${pad(0, 6)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Occupancy and counters of one cache. @internal */
export function cacheStatsOf(core: SlabCore, s: KmemCache): KmemCacheStats {
  let inUse = 0;
  let inSheaves = 0;
  let deferred = 0;
  let quarantined = 0;
  let free = 0;
  const t = core.slabs;
  const st = core.objs.state;
  for (let slab = s.allHead; slab >= 0; slab = t.allNext[slab]!) {
    const b = t.objBase[slab]!;
    for (let k = 0; k < t.objects[slab]!; k++) {
      switch (st[b + k]) {
        case ObjState.ALLOCATED:
          inUse++;
          break;
        case ObjState.SHEAF:
        case ObjState.RCU_SHEAF:
          inSheaves++;
          break;
        case ObjState.DEFERRED:
          deferred++;
          break;
        case ObjState.QUARANTINE:
          quarantined++;
          break;
        default:
          free++;
      }
    }
  }
  const events = {} as Record<SlabStatName, number>;
  for (let k = 0; k < NR_STAT_ITEMS; k++) {
    let sum = 0;
    for (let c = 0; c < core.nrCpus; c++) sum += s.stat[c * NR_STAT_ITEMS + k]!;
    events[SLAB_STAT_NAMES[k]!] = sum;
  }
  return {
    name: s.name,
    objectSize: s.objectSize,
    size: s.size,
    objectsPerSlab: s.objectsPerSlab,
    order: s.order,
    slabs: s.nrSlabs,
    totalObjects: s.totalObjects,
    inUse,
    inSheaves,
    deferred,
    quarantined,
    free,
    events,
  };
}

/** The whole allocator's snapshot. @internal */
export function slabStatsOf(core: SlabCore): SlabStats {
  const caches: KmemCacheStats[] = [];
  for (let id = core.byId.length - 1; id >= 0; id--) {
    const s = core.byId[id]!;
    if (s.life !== 'destroyed') caches.push(cacheStatsOf(core, s));
  }
  let outstanding = core.arena.pageCount;
  for (const order of core.outstanding.values()) outstanding += 2 ** order;
  let transfers = 0;
  const sites = core.defer.sites;
  if (sites.length > 0) {
    const all = core.m.cache.siteStats();
    for (const id of sites) transfers += all[id]?.transfers ?? 0;
  }
  const nl = core.nl;
  return {
    allocator: core.name,
    caches,
    pages: {
      slab: core.slabPages,
      largeKmalloc: core.largePages,
      metadata: core.arena.pageCount,
      outstanding,
    },
    nolock: {
      allocCalls: nl.allocCalls,
      allocSucceeded: nl.allocSucceeded,
      retries: nl.retries,
      failures: { rtIrq: nl.rtIrq, tooLarge: nl.tooLarge, busy: nl.busy, noMemory: nl.noMemory },
      freeCalls: nl.freeCalls,
      freedNow: nl.freedNow,
      deferred: nl.deferred,
      rejected: nl.rejected,
    },
    defer: {
      placement: core.defer.placement,
      queued: core.defer.queued,
      drained: core.defer.drained,
      pending: core.defer.pending(),
      irqWorks: core.defer.irqWorks,
      cacheLineTransfers: transfers,
    },
    kasan: {
      enabled: core.kasan.enabled,
      reports: core.kasan.reports,
      quarantinedObjects: core.kasan.quarantined,
      quarantinedBytes: core.kasan.qBytes,
    },
  };
}
