import type { BuddyAllocator } from './buddy-allocator.js';
import {
  MAX_PAGE_ORDER,
  MIGRATE_HIGHATOMIC,
  MIGRATE_PCPTYPES,
  MIGRATE_TYPES,
  NR_PAGE_ORDERS,
  NR_PCP_LISTS,
  PAGEBLOCK_ORDER,
  pindexToOrder,
} from './constants.js';
import { NR_LRU_LISTS } from './node.js';
import { type BuddyCore, coreOf } from './page-alloc.js';
import { PageFlag, PageState, STRUCT_PAGE_SIZE } from './page-map.js';

/** Page counts found by {@link checkBuddyInvariants}. @public */
export interface BuddyPageCounts {
  /** Pages in free blocks on the zone free lists. */
  readonly buddy: number;
  /** Pages on per-CPU lists. */
  readonly pcp: number;
  /** Pages parked on `trylock_free_pages`. */
  readonly deferred: number;
  /** Pages in allocated blocks. */
  readonly allocated: number;
  /** Pages never given to the buddy allocator. */
  readonly reserved: number;
  /** All page frames. */
  readonly total: number;
}

/** Result of {@link checkBuddyInvariants}. @public */
export interface BuddyInvariantReport {
  /** True when no problem was found. */
  readonly ok: boolean;
  /** One line per problem (at most 50). */
  readonly problems: readonly string[];
  /** Pages by state. */
  readonly counts: BuddyPageCounts;
}

const MAX_PROBLEMS = 50;

/**
 * Check the allocator's structural invariants: every free list holds only
 * free block heads of its order, migratetype and zone, aligned to their
 * order; per-order and per-zone counters match the lists; per-CPU list counts
 * match; no page is on two lists; every block's tail pages are tails; pages
 * are conserved (free + per-CPU + deferred + allocated + reserved == total);
 * no two free buddies of the same order are left unmerged; the struct page
 * mirror matches for free heads; boot-time memblock allocations made later
 * have not reached pages the buddy owns. Models the spirit of
 * CONFIG_DEBUG_VM's checks; run it after every test.
 * @public
 */
export function checkBuddyInvariants(allocator: BuddyAllocator): BuddyInvariantReport {
  return checkCore(coreOf(allocator));
}

/** @internal */
export function checkCore(core: BuddyCore): BuddyInvariantReport {
  const pm = core.pm;
  const n = core.nrPages;
  const problems: string[] = [];
  const bad = (msg: string): void => {
    if (problems.length < MAX_PROBLEMS) problems.push(msg);
  };
  // The struct page word that the vmemmap mirror holds for a free page.
  const checkMirror = (pfn: number, kind: string): void => {
    if (core.opts.vmemmapCost === 'none') return;
    const w = core.m.memory.read(pm.vmemmap + pfn * STRUCT_PAGE_SIZE);
    if (w !== pm.word(pfn)) {
      bad(
        `struct page of ${kind} pfn ${pfn} in memory (${w}) differs from its state (${pm.word(pfn)})`,
      );
    }
  };
  const onList = new Uint8Array(n);
  const mark = (pfn: number, what: string): boolean => {
    if (pfn < 0 || pfn >= n) {
      bad(`${what}: node ${pfn} is not a page`);
      return false;
    }
    if (onList[pfn] !== 0) {
      bad(`pfn ${pfn} is on two lists (again on ${what})`);
      return false;
    }
    onList[pfn] = 1;
    return true;
  };

  // Zone free lists.
  for (const z of core.zones) {
    let pages = 0;
    let highatomic = 0;
    for (let o = 0; o < NR_PAGE_ORDERS; o++) {
      let blocks = 0;
      for (let t = 0; t < MIGRATE_TYPES; t++) {
        const head = z.freeHead(o, t);
        let guard = 0;
        for (let p = pm.next[head]!; p !== head; p = pm.next[p]!) {
          if (++guard > n) {
            bad(`zone ${z.nid}/${z.name} free_area[${o}][${t}] is not a proper list`);
            break;
          }
          if (!mark(p, `free_area[${o}][${t}] of ${z.name}`)) break;
          if (pm.state[p] !== PageState.BUDDY)
            bad(`pfn ${p} on free_area[${o}] is not PageBuddy (state ${pm.state[p]})`);
          if (pm.order[p] !== o) bad(`pfn ${p} on free_area[${o}] has order ${pm.order[p]}`);
          if ((p & ((1 << o) - 1)) !== 0)
            bad(`pfn ${p} on free_area[${o}] is not aligned to its order`);
          if (!z.spans(p) || pm.zone[p] !== z.id + 1)
            bad(`pfn ${p} on ${z.name}'s free list is outside the zone`);
          if (z.blockMt(p) !== t)
            bad(`pfn ${p} on the ${t} list sits in a pageblock of type ${z.blockMt(p)}`);
          blocks++;
          pages += 1 << o;
          if (t === MIGRATE_HIGHATOMIC) highatomic += 1 << o;
        }
      }
      if (blocks !== z.nrFree[o])
        bad(`zone ${z.nid}/${z.name} nr_free[${o}] = ${z.nrFree[o]} but the lists hold ${blocks}`);
    }
    if (pages !== z.freePages)
      bad(`zone ${z.nid}/${z.name} NR_FREE_PAGES = ${z.freePages} but the lists hold ${pages}`);
    if (highatomic !== z.nrFreeHighatomic) {
      bad(
        `zone ${z.nid}/${z.name} nr_free_highatomic = ${z.nrFreeHighatomic} but the lists hold ${highatomic}`,
      );
    }
  }

  // Per-CPU lists.
  for (const z of core.zones) {
    for (const p of z.perCpuPageset) {
      let count = 0;
      for (let i = 0; i < NR_PCP_LISTS; i++) {
        const head = p.listBase + i;
        const order = pindexToOrder(i);
        let guard = 0;
        for (let q = pm.next[head]!; q !== head; q = pm.next[q]!) {
          if (++guard > n) {
            bad(`pcp list ${i} of cpu ${p.cpu} is not a proper list`);
            break;
          }
          if (!mark(q, `pcp[${z.name}][cpu ${p.cpu}]`)) break;
          if (pm.state[q] !== PageState.PCP) bad(`pfn ${q} on a pcp list has state ${pm.state[q]}`);
          if (pm.order[q] !== order)
            bad(`pfn ${q} on pcp list ${i} has order ${pm.order[q]}, expected ${order}`);
          if (pm.zone[q] !== z.id + 1)
            bad(`pfn ${q} on ${z.name}'s pcp list belongs to another zone`);
          count += 1 << order;
        }
      }
      if (count !== p.count)
        bad(`pcp of ${z.name} cpu ${p.cpu}: count ${p.count} but lists hold ${count}`);
    }
  }

  // Deferred frees.
  for (const z of core.zones) {
    const ll = core.trylockFree[z.id]!;
    let guard = 0;
    // Walk the chain without taking it: read the head word and follow links.
    let node = core.m.memory.read(ll.addr);
    while (node !== 0) {
      if (++guard > n) {
        bad(`trylock_free_pages of ${z.name} loops`);
        break;
      }
      const pfn = (node - pm.vmemmap - 8) / STRUCT_PAGE_SIZE;
      if (!Number.isInteger(pfn) || !mark(pfn, `trylock_free_pages of ${z.name}`)) break;
      if (pm.state[pfn] !== PageState.DEFERRED)
        bad(`pfn ${pfn} on trylock_free_pages has state ${pm.state[pfn]}`);
      node = core.m.memory.read(node);
    }
  }

  // LRU lists hold allocated order-0 pages.
  for (const node of core.nodes) {
    for (let l = 0; l < NR_LRU_LISTS; l++) {
      const head = node.lruHead[l]!;
      let size = 0;
      let guard = 0;
      for (let p = pm.next[head]!; p !== head; p = pm.next[p]!) {
        if (++guard > n) {
          bad(`LRU list ${l} of node ${node.nid} is not a proper list`);
          break;
        }
        if (!mark(p, `LRU ${l} of node ${node.nid}`)) break;
        if (pm.state[p] !== PageState.ALLOC || pm.order[p] !== 0)
          bad(`pfn ${p} on an LRU list is not an allocated order-0 page`);
        if ((pm.flags[p]! & PageFlag.LRU) === 0) bad(`pfn ${p} on an LRU list lacks PG_lru`);
        size++;
      }
      if (size !== node.lruSize[l])
        bad(`node ${node.nid} LRU ${l}: size ${node.lruSize[l]} but list holds ${size}`);
    }
  }

  // Walk every block: heads, tails, conservation, unmerged buddies.
  let buddy = 0;
  let pcp = 0;
  let deferred = 0;
  let allocated = 0;
  let reserved = 0;
  for (const z of core.zones) {
    let pfn = z.startPfn;
    while (pfn < z.endPfn) {
      const s = pm.state[pfn]!;
      if (s === PageState.RESERVED) {
        reserved++;
        pfn++;
        continue;
      }
      if (s === PageState.TAIL) {
        bad(`pfn ${pfn} is a tail page with no head before it`);
        pfn++;
        continue;
      }
      const o = pm.order[pfn]!;
      const size = 1 << o;
      if (o > MAX_PAGE_ORDER || pfn + size > z.endPfn) {
        bad(`block at pfn ${pfn} of order ${o} runs past its zone`);
        pfn++;
        continue;
      }
      for (let t = pfn + 1; t < pfn + size; t++) {
        if (pm.state[t] !== PageState.TAIL) {
          bad(
            `pfn ${t} inside the order-${o} block at ${pfn} is not a tail (state ${pm.state[t]})`,
          );
          break;
        }
      }
      if (s === PageState.BUDDY) {
        buddy += size;
        if (onList[pfn] === 0) bad(`free block at pfn ${pfn} is on no free list`);
        if (o < MAX_PAGE_ORDER) {
          const b = pfn ^ size;
          if (
            z.spans(b) &&
            pm.state[b] === PageState.BUDDY &&
            pm.order[b] === o &&
            pm.zone[b] === z.id + 1 &&
            (o < PAGEBLOCK_ORDER ||
              z.blockMt(b) === z.blockMt(pfn) ||
              (z.blockMt(b) < MIGRATE_PCPTYPES && z.blockMt(pfn) < MIGRATE_PCPTYPES))
          ) {
            if (b > pfn) bad(`free buddies at pfn ${pfn} and ${b} (order ${o}) were not merged`);
          }
        }
        checkMirror(pfn, 'free');
      } else if (s === PageState.PCP) {
        pcp += size;
        if (onList[pfn] === 0) bad(`pcp page ${pfn} is on no pcp list`);
        checkMirror(pfn, 'pcp');
      } else if (s === PageState.DEFERRED) {
        deferred += size;
        if (onList[pfn] === 0) bad(`deferred page ${pfn} is not on trylock_free_pages`);
      } else if (s === PageState.ALLOC) {
        allocated += size;
      } else {
        bad(`pfn ${pfn} has unknown state ${s}`);
      }
      pfn += size;
    }
  }
  // Pages outside every zone are reserved too.
  for (let p = 0; p < n; p++) if (pm.zone[p] === 0) reserved++;
  const total = buddy + pcp + deferred + allocated + reserved;
  if (total !== n)
    bad(
      `pages not conserved: ${buddy} free + ${pcp} pcp + ${deferred} deferred + ${allocated} allocated + ${reserved} reserved = ${total}, not ${n}`,
    );
  let managed = 0;
  for (const z of core.zones) managed += z.managed;
  if (reserved !== n - managed)
    bad(`reserved pages ${reserved} != total ${n} - managed ${managed}`);
  const mb = core.m.memory.memblockReserved().start;
  if (mb < core.reservedStartPfn * 4096) {
    bad(
      `memblock allocations reach down to ${mb}, into pages the buddy owns (below ${core.reservedStartPfn * 4096}); raise memblockSlackBytes`,
    );
  }
  return {
    ok: problems.length === 0,
    problems,
    counts: { buddy, pcp, deferred, allocated, reserved, total: n },
  };
}
