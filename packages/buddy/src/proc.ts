import { MAX_NR_ZONES, NR_PAGE_ORDERS, ZONE_SLOT_NAMES } from './constants.js';
import {
  LRU_ACTIVE_ANON,
  LRU_ACTIVE_FILE,
  LRU_INACTIVE_ANON,
  LRU_INACTIVE_FILE,
  NODE_STAT_ITEMS,
} from './node.js';
import type { BuddyCore } from './page-alloc.js';
import { globalNodeStat, mappedFilePages } from './show-mem.js';

/**
 * Text of the /proc files the page allocator owns, in the kernel's layouts:
 * `/proc/buddyinfo` and `/proc/zoneinfo` (mm/vmstat.c), `/proc/meminfo`
 * (fs/proc/meminfo.c) and `/proc/vmstat`, each restricted to what the
 * simulator models.
 */

const K = (pages: number): number => pages * 4;

/** `fls()`: position of the highest set bit, 1-based; 0 for 0. */
function fls(x: number): number {
  return x <= 0 ? 0 : Math.floor(Math.log2(x)) + 1;
}

/** `/proc/buddyinfo`: free blocks per order of each populated zone (`frag_show_print()`). @internal */
export function buddyinfo(core: BuddyCore): string {
  let out = '';
  for (const z of core.zones) {
    if (!z.populated) continue;
    out += `Node ${z.nid}, zone ${z.name.padStart(8)} `;
    for (let o = 0; o < NR_PAGE_ORDERS; o++) out += `${String(z.nrFree[o]).padStart(6)} `;
    out += '\n';
  }
  return out;
}

/** `calculate_normal_threshold()`: the vmstat per-CPU drift threshold of a zone. */
function statThreshold(managed: number, cpus: number): number {
  const mem = managed >> 15;
  return Math.min(125, 2 * fls(cpus) * (1 + fls(mem)));
}

/**
 * `/proc/zoneinfo` (`zoneinfo_show_print()`): per-node stats before the first
 * populated zone of a node, then for every zone its free pages, watermarks,
 * span, protection, zone counters, per-CPU pagesets, and start pfn.
 * @internal
 */
export function zoneinfo(core: BuddyCore): string {
  let out = '';
  const cpus = core.m.nrCpus;
  for (const node of core.nodes) {
    const first = node.zones.find((z) => z.populated);
    for (const z of node.zones) {
      out += `Node ${node.nid}, zone ${z.name.padStart(8)}`;
      if (z === first) {
        out += '\n  per-node stats';
        const items: [string, number][] = [
          ['nr_inactive_anon', node.lruSize[LRU_INACTIVE_ANON]!],
          ['nr_active_anon', node.lruSize[LRU_ACTIVE_ANON]!],
          ['nr_inactive_file', node.lruSize[LRU_INACTIVE_FILE]!],
          ['nr_active_file', node.lruSize[LRU_ACTIVE_FILE]!],
          ['nr_unevictable', 0],
          ['nr_slab_reclaimable', node.stat[NODE_STAT_ITEMS.indexOf('slab_reclaimable')]!],
          ['nr_slab_unreclaimable', node.stat[NODE_STAT_ITEMS.indexOf('slab_unreclaimable')]!],
          ['nr_isolated_anon', 0],
          ['nr_isolated_file', 0],
          ['nr_anon_pages', node.anonPages()],
          ['nr_mapped', core.nodes.length === 1 ? mappedFilePages(core) : 0],
          ['nr_file_pages', node.filePages()],
          ['nr_dirty', 0],
          ['nr_writeback', 0],
          ['nr_shmem', 0],
          ['nr_kernel_stack', K(node.stat[NODE_STAT_ITEMS.indexOf('kernel_stack')]!)],
          ['nr_page_table_pages', node.stat[NODE_STAT_ITEMS.indexOf('pagetables')]!],
        ];
        for (const [name, v] of items) out += `\n      ${name.padEnd(12)} ${v}`;
      }
      out +=
        `\n  pages free     ${z.freePages}` +
        `\n        boost    ${z.watermarkBoost}` +
        `\n        min      ${z.wmarkMin + z.watermarkBoost}` +
        `\n        low      ${z.wmarkLow + z.watermarkBoost}` +
        `\n        high     ${z.wmarkHigh + z.watermarkBoost}` +
        `\n        promo    ${z.wmarkPromo + z.watermarkBoost}` +
        `\n        spanned  ${z.spanned}` +
        `\n        present  ${z.present}` +
        `\n        managed  ${z.managed}` +
        '\n        cma      0';
      out += `\n        protection: (${Array.from(z.lowmemReserve).join(', ')})`;
      if (!z.populated) {
        out += '\n';
        continue;
      }
      const zstats: [string, number][] = [
        ['nr_free_pages', z.freePages],
        ['nr_zone_inactive_anon', z.lruPages[LRU_INACTIVE_ANON]!],
        ['nr_zone_active_anon', z.lruPages[LRU_ACTIVE_ANON]!],
        ['nr_zone_inactive_file', z.lruPages[LRU_INACTIVE_FILE]!],
        ['nr_zone_active_file', z.lruPages[LRU_ACTIVE_FILE]!],
        ['nr_zone_unevictable', 0],
        ['nr_zone_write_pending', 0],
        ['nr_mlock', 0],
        ['nr_bounce', 0],
        ['nr_zspages', 0],
        ['nr_free_cma', 0],
      ];
      for (const [name, v] of zstats) out += `\n      ${name.padEnd(12)} ${v}`;
      out += '\n  pagesets';
      const thr = statThreshold(z.managed, cpus);
      for (let c = 0; c < cpus; c++) {
        const p = z.perCpuPageset[c]!;
        out +=
          `\n    cpu: ${c}` +
          `\n              count:    ${p.count}` +
          `\n              high:     ${p.high}` +
          `\n              batch:    ${p.batch}` +
          `\n              high_min: ${p.highMin}` +
          `\n              high_max: ${p.highMax}` +
          `\n  vm stats threshold: ${thr}`;
      }
      out +=
        `\n  node_unreclaimable:  ${node.kswapdFailures >= 16 ? 1 : 0}` +
        `\n  start_pfn:           ${z.startPfn}\n`;
    }
  }
  return out;
}

/** `totalreserve_pages` (`calculate_totalreserve_pages()`). @internal */
export function totalreservePages(core: BuddyCore): number {
  let total = 0;
  for (const z of core.zones) {
    let max = 0;
    for (let j = z.slot; j < MAX_NR_ZONES; j++) max = Math.max(max, z.lowmemReserve[j]!);
    max += z.wmarkHigh + z.watermarkBoost;
    total += Math.min(max, z.managed);
  }
  return total;
}

/** `si_mem_available()`: free memory plus what reclaim could free without thrashing. @internal */
export function memAvailable(core: BuddyCore): number {
  let wmarkLow = 0;
  for (const z of core.zones) wmarkLow += z.wmarkLow + z.watermarkBoost;
  let available = core.freePagesTotal() - totalreservePages(core);
  let pagecache = 0;
  for (const node of core.nodes) pagecache += node.filePages();
  pagecache -= Math.min(Math.floor(pagecache / 2), wmarkLow);
  available += pagecache;
  let reclaimable = globalNodeStat(core, 'slab_reclaimable');
  reclaimable -= Math.min(Math.floor(reclaimable / 2), wmarkLow);
  available += reclaimable;
  return Math.max(0, available);
}

function kbLine(label: string, pages: number): string {
  return `${`${label}:`.padEnd(16)}${String(K(pages)).padStart(8)} kB`;
}

/** `/proc/meminfo` (`meminfo_proc_show()`), up to `PageTables`. @internal */
export function meminfo(core: BuddyCore): string {
  let activeAnon = 0;
  let inactiveAnon = 0;
  let activeFile = 0;
  let inactiveFile = 0;
  for (const node of core.nodes) {
    activeAnon += node.lruSize[LRU_ACTIVE_ANON]!;
    inactiveAnon += node.lruSize[LRU_INACTIVE_ANON]!;
    activeFile += node.lruSize[LRU_ACTIVE_FILE]!;
    inactiveFile += node.lruSize[LRU_INACTIVE_FILE]!;
  }
  const sRecl = globalNodeStat(core, 'slab_reclaimable');
  const sUnrecl = globalNodeStat(core, 'slab_unreclaimable');
  const lines = [
    kbLine('MemTotal', core.totalramPages()),
    kbLine('MemFree', core.freePagesTotal()),
    kbLine('MemAvailable', memAvailable(core)),
    kbLine('Buffers', 0),
    kbLine('Cached', activeFile + inactiveFile),
    kbLine('SwapCached', 0),
    kbLine('Active', activeAnon + activeFile),
    kbLine('Inactive', inactiveAnon + inactiveFile),
    kbLine('Active(anon)', activeAnon),
    kbLine('Inactive(anon)', inactiveAnon),
    kbLine('Active(file)', activeFile),
    kbLine('Inactive(file)', inactiveFile),
    kbLine('Unevictable', 0),
    kbLine('Mlocked', 0),
    kbLine('SwapTotal', core.swapPages),
    kbLine('SwapFree', core.swapPages - core.swapUsed),
    kbLine('Dirty', 0),
    kbLine('Writeback', 0),
    kbLine('AnonPages', activeAnon + inactiveAnon),
    kbLine('Mapped', mappedFilePages(core)),
    kbLine('Shmem', 0),
    kbLine('KReclaimable', sRecl),
    kbLine('Slab', sRecl + sUnrecl),
    kbLine('SReclaimable', sRecl),
    kbLine('SUnreclaim', sUnrecl),
    kbLine('KernelStack', globalNodeStat(core, 'kernel_stack')),
    kbLine('PageTables', globalNodeStat(core, 'pagetables')),
  ];
  return `${lines.join('\n')}\n`;
}

/** `/proc/vmstat`: the counters the simulator keeps, as `name value` lines. @internal */
export function vmstat(core: BuddyCore): string {
  const e = core.events;
  const lines: [string, number][] = [['nr_free_pages', core.freePagesTotal()]];
  let ia = 0;
  let aa = 0;
  let ifl = 0;
  let af = 0;
  for (const node of core.nodes) {
    ia += node.lruSize[LRU_INACTIVE_ANON]!;
    aa += node.lruSize[LRU_ACTIVE_ANON]!;
    ifl += node.lruSize[LRU_INACTIVE_FILE]!;
    af += node.lruSize[LRU_ACTIVE_FILE]!;
  }
  lines.push(
    ['nr_zone_inactive_anon', ia],
    ['nr_zone_active_anon', aa],
    ['nr_zone_inactive_file', ifl],
    ['nr_zone_active_file', af],
    ['nr_slab_reclaimable', globalNodeStat(core, 'slab_reclaimable')],
    ['nr_slab_unreclaimable', globalNodeStat(core, 'slab_unreclaimable')],
    ['nr_anon_pages', ia + aa],
    ['nr_mapped', mappedFilePages(core)],
    ['nr_file_pages', ifl + af],
  );
  const slotNames = ZONE_SLOT_NAMES.map((n) => n.toLowerCase());
  for (let s = 0; s < MAX_NR_ZONES; s++) lines.push([`pgalloc_${slotNames[s]}`, e.pgalloc[s]!]);
  lines.push(['pgfree', e.pgfree], ['pgactivate', e.pgactivate], ['pgdeactivate', e.pgdeactivate]);
  lines.push(['pswpout', e.pswpout]);
  for (let s = 0; s < MAX_NR_ZONES; s++)
    lines.push([`allocstall_${slotNames[s]}`, e.allocstall[s]!]);
  lines.push(
    ['pgsteal_kswapd', e.pgstealKswapd],
    ['pgsteal_direct', e.pgstealDirect],
    ['pgscan_kswapd', e.pgscanKswapd],
    ['pgscan_direct', e.pgscanDirect],
    ['slabs_scanned', e.slabsScanned],
    ['pageoutrun', e.pageoutrun],
    ['oom_kill', e.oomKill],
  );
  return `${lines.map(([n, v]) => `${n} ${v}`).join('\n')}\n`;
}
