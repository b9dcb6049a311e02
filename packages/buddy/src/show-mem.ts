import { MAX_NR_ZONES, MIGRATE_TYPES, NR_PAGE_ORDERS } from './constants.js';
import {
  LRU_ACTIVE_ANON,
  LRU_ACTIVE_FILE,
  LRU_INACTIVE_ANON,
  LRU_INACTIVE_FILE,
  NODE_STAT_ITEMS,
  type NodeStatItem,
} from './node.js';
import type { BuddyCore } from './page-alloc.js';

const K = (pages: number): number => pages * 4;
const TYPE_CHARS = ['U', 'M', 'E', 'H'];

/** A node counter summed over all nodes. @internal */
export function globalNodeStat(core: BuddyCore, item: NodeStatItem): number {
  const i = NODE_STAT_ITEMS.indexOf(item);
  let n = 0;
  for (const node of core.nodes) n += node.stat[i]!;
  return n;
}

function sumLru(core: BuddyCore, lru: number): number {
  let n = 0;
  for (const node of core.nodes) n += node.lruSize[lru]!;
  return n;
}

/**
 * The `Mem-Info:` block that allocation failures and the OOM killer print:
 * global counters, per-node and per-zone lines, lowmem reserves, the free
 * blocks per order with their migratetypes, page-cache and swap totals, and
 * the RAM summary. Models `__show_mem()` / `show_free_areas()`
 * (mm/show_mem.c) for zones up to `maxZoneIdx`.
 * @internal
 */
export function showMemLines(core: BuddyCore, maxZoneIdx: number = MAX_NR_ZONES - 1): string[] {
  const out: string[] = ['Mem-Info:'];
  let freePcp = 0;
  for (const z of core.zones) if (z.populated && z.slot <= maxZoneIdx) freePcp += core.pcpCount(z);
  const fileMapped = mappedFilePages(core);
  out.push(
    `active_anon:${sumLru(core, LRU_ACTIVE_ANON)} inactive_anon:${sumLru(core, LRU_INACTIVE_ANON)} isolated_anon:0`,
    ` active_file:${sumLru(core, LRU_ACTIVE_FILE)} inactive_file:${sumLru(core, LRU_INACTIVE_FILE)} isolated_file:0`,
    ' unevictable:0 dirty:0 writeback:0',
    ` slab_reclaimable:${globalNodeStat(core, 'slab_reclaimable')} slab_unreclaimable:${globalNodeStat(core, 'slab_unreclaimable')}`,
    ` mapped:${fileMapped} shmem:0 pagetables:${globalNodeStat(core, 'pagetables')}`,
    ' sec_pagetables:0 bounce:0',
    ' kernel_misc_reclaimable:0',
    ` free:${core.freePagesTotal()} free_pcp:${freePcp} free_cma:0`,
  );
  for (const node of core.nodes) {
    let has = false;
    for (const z of node.zones) if (z.slot <= maxZoneIdx && z.managed > 0) has = true;
    if (!has) continue;
    const ks = NODE_STAT_ITEMS.indexOf('kernel_stack');
    const pt = NODE_STAT_ITEMS.indexOf('pagetables');
    out.push(
      `Node ${node.nid} active_anon:${K(node.lruSize[LRU_ACTIVE_ANON]!)}kB inactive_anon:${K(node.lruSize[LRU_INACTIVE_ANON]!)}kB active_file:${K(node.lruSize[LRU_ACTIVE_FILE]!)}kB inactive_file:${K(node.lruSize[LRU_INACTIVE_FILE]!)}kB unevictable:0kB isolated(anon):0kB isolated(file):0kB mapped:${K(nodeMapped(core, node.nid))}kB dirty:0kB writeback:0kB shmem:0kB shmem_thp:0kB shmem_pmdmapped:0kB anon_thp:0kB writeback_tmp:0kB kernel_stack:${K(node.stat[ks]!)}kB pagetables:${K(node.stat[pt]!)}kB sec_pagetables:0kB all_unreclaimable? ${node.kswapdFailures >= 16 ? 'yes' : 'no'}`,
    );
  }
  const local = core.m.cpu;
  for (const z of core.zones) {
    if (!z.populated || z.slot > maxZoneIdx) continue;
    const localPcp = z.perCpuPageset[local]!.count;
    out.push(
      `Node ${z.nid} ${z.name} free:${K(z.freePages)}kB boost:${K(z.watermarkBoost)}kB min:${K(z.wmarkMin + z.watermarkBoost)}kB low:${K(z.wmarkLow + z.watermarkBoost)}kB high:${K(z.wmarkHigh + z.watermarkBoost)}kB reserved_highatomic:${K(z.nrReservedHighatomic)}KB active_anon:${K(z.lruPages[LRU_ACTIVE_ANON]!)}kB inactive_anon:${K(z.lruPages[LRU_INACTIVE_ANON]!)}kB active_file:${K(z.lruPages[LRU_ACTIVE_FILE]!)}kB inactive_file:${K(z.lruPages[LRU_INACTIVE_FILE]!)}kB unevictable:0kB writepending:0kB present:${K(z.present)}kB managed:${K(z.managed)}kB mlocked:0kB bounce:0kB free_pcp:${K(core.pcpCount(z))}kB local_pcp:${K(localPcp)}kB free_cma:0kB`,
    );
    out.push(`lowmem_reserve[]: ${Array.from(z.lowmemReserve).join(' ')}`);
  }
  for (const z of core.zones) {
    if (!z.populated || z.slot > maxZoneIdx) continue;
    let line = `Node ${z.nid} ${z.name}: `;
    let total = 0;
    for (let o = 0; o < NR_PAGE_ORDERS; o++) {
      const nr = z.nrFree[o]!;
      total += nr << o;
      line += `${nr}*${4 << o}kB `;
      if (nr > 0) {
        let types = '';
        for (let t = 0; t < MIGRATE_TYPES; t++)
          if (!core.pm.isEmpty(z.freeHead(o, t))) types += TYPE_CHARS[t];
        line += `(${types}) `;
      }
    }
    out.push(`${line}= ${K(total)}kB`);
  }
  for (const node of core.nodes) {
    out.push(
      `Node ${node.nid} hugepages_total=0 hugepages_free=0 hugepages_surp=0 hugepages_size=2048kB`,
    );
  }
  let cache = 0;
  for (const node of core.nodes) cache += node.filePages();
  out.push(`${cache} total pagecache pages`);
  out.push('0 pages in swap cache');
  out.push(`Free swap  = ${K(core.swapPages - core.swapUsed)}kB`);
  out.push(`Total swap = ${K(core.swapPages)}kB`);
  let ram = 0;
  let reserved = 0;
  for (const z of core.zones) {
    if (!z.populated) continue;
    ram += z.present;
    reserved += z.present - z.managed;
  }
  out.push(`${ram} pages RAM`, '0 pages HighMem/MovableOnly', `${reserved} pages reserved`);
  return out;
}

/** Mapped page-cache pages of all workloads. @internal */
export function mappedFilePages(core: BuddyCore): number {
  let n = 0;
  for (const w of core.workloads) if (w !== null) n += w.rssFile;
  return n;
}

function nodeMapped(core: BuddyCore, _nid: number): number {
  // Workloads are not tracked per node; single-node systems are exact.
  return core.nodes.length === 1 ? mappedFilePages(core) : 0;
}
