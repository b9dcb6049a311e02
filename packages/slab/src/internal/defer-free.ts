import { IrqWork, type Machine } from '@sim/cpu';
import { GFP_NOWAIT } from '@sim/gfp';
import type { DeferPlacement } from '../contract.js';
import { SlabError } from '../errors.js';
import { K_DEFER, type KmemCache } from './kmem-cache.js';
import { ObjState } from './object-arena.js';
import type { SlabCore } from './slab-core.js';
import { D_FLUSH, D_LINK, SlabFlag } from './slab-table.js';
import { Stat } from './stat.js';

/**
 * A lock-less list (include/linux/llist.h) of deferred frees: the head word
 * lives in simulated memory (a per-CPU line or the cache's `struct kmem_cache`
 * line) and nodes are the objects' free-pointer words. Head accesses are
 * charged to the list's own site, so its cache-line transfers can be counted
 * apart from the object lines; a probe between reading the head and the
 * cmpxchg lets an NMI race an adder.
 * @internal
 */
export class DeferList {
  constructor(
    private readonly m: Machine,
    /** Address of the `first` word. */
    readonly addr: number,
    /** Site of the head word. */
    readonly site: number,
    private readonly siteNode: number,
    private readonly probe: number,
  ) {}

  /** `llist_add()`: true when the list was empty. */
  add(node: number): boolean {
    const m = this.m;
    for (;;) {
      const head = m.load(this.addr, this.site);
      m.store(node, head, this.siteNode);
      m.probe(this.probe);
      if (m.cmpxchg(this.addr, head, node, this.site) === head) return head === 0;
    }
  }

  /** `llist_del_all()`: the whole chain, newest first. */
  delAll(): number {
    return this.m.xchg(this.addr, 0, this.site);
  }

  /** `llist_empty()`. */
  empty(): boolean {
    return this.m.load(this.addr, this.site) === 0;
  }

  /** `llist_next()`. */
  next(node: number): number {
    return this.m.load(node, this.siteNode);
  }
}

/**
 * The deferred frees of kfree_nolock() and kmalloc_nolock() (mm/slub.c
 * `struct defer_free`): objects whose free would need a lock are pushed on a
 * lock-less llist, linked through their free-pointer word, and freed later.
 *
 * Placement is the option the seed thread argued over:
 * - `'per-cpu'` (what landed): one llist per CPU plus an irq_work, queued when
 *   the list was empty, that drains it in hardirq (the irq_work thread on RT).
 * - `'per-cache'` (the first proposal): one llist in `struct kmem_cache`, on
 *   the line the fast paths read, drained by the next ordinary free of the
 *   cache that misses the CPU slab.
 *
 * Deferred slab deactivations (`defer_deactivate_slab()`) always use the
 * per-CPU slab list and irq_work.
 * @internal
 */
export class DeferFree {
  readonly placement: DeferPlacement;
  private readonly objLists: DeferList[] = [];
  private readonly slabLists: DeferList[] = [];
  private readonly probeAdd: number;
  private readonly works: IrqWork[] = [];
  /** Site ids of the list lines, for the transfer count. */
  readonly sites: number[] = [];
  queued = 0;
  drained = 0;
  irqWorks = 0;

  constructor(
    private readonly core: SlabCore,
    placement: DeferPlacement,
  ) {
    this.placement = placement;
    const m = core.m;
    this.probeAdd = m.defineProbe('llist.add');
    for (let c = 0; c < core.nrCpus; c++) {
      const line = core.arena.line(GFP_NOWAIT);
      if (line === 0)
        throw new SlabError('NO_MEMORY', 'slab boot: no page for the per-CPU deferred-free lists');
      const objSite = m.siteId(`slab.defer:cpu${c}`);
      this.objLists.push(new DeferList(m, line, objSite, core.siteFreelist, this.probeAdd));
      this.slabLists.push(
        new DeferList(
          m,
          line + 8,
          m.siteId(`slab.defer_slabs:cpu${c}`),
          core.sitePage,
          this.probeAdd,
        ),
      );
      if (placement === 'per-cpu') this.sites.push(objSite);
      const cpu = c;
      this.works.push(new IrqWork(() => this.freeDeferred(cpu)));
    }
    // The per-cache lists share their line with the fields every fast path reads.
    if (placement === 'per-cache') this.sites.push(core.siteCache);
  }

  /** The per-cache list of `s`, in its `struct kmem_cache` line. */
  cacheList(s: KmemCache): DeferList {
    const m = this.core.m;
    const site = m.siteId(`slab.defer:${s.name}`);
    this.sites.push(site);
    return new DeferList(m, s.hotLine + K_DEFER, site, this.core.siteFreelist, this.probeAdd);
  }

  /** `defer_free()`: push `obj` (state already FREE) on the deferred list. */
  deferFree(s: KmemCache, obj: number): void {
    const core = this.core;
    const i = core.objIndex(s, core.slabOf(obj), obj);
    core.objs.state[i] = ObjState.DEFERRED;
    this.queued++;
    core.stat(s, Stat.NOLOCK_DEFER);
    const node = obj + s.offset;
    if (this.placement === 'per-cache') {
      s.deferList!.add(node);
      return;
    }
    const c = core.m.cpu;
    if (this.objLists[c]!.add(node)) this.queueWork(c);
  }

  /** `defer_deactivate_slab()`: a frozen slab whose deactivation needs locks. */
  deferDeactivateSlab(_s: KmemCache, slab: number, flushFreelist: number): void {
    const core = this.core;
    const t = core.slabs;
    const d = t.desc[slab]!;
    core.m.store(d + D_FLUSH, flushFreelist, core.sitePage);
    t.flags[slab] = t.flags[slab]! | SlabFlag.DEFERRED;
    const c = core.m.cpu;
    if (this.slabLists[c]!.add(d + D_LINK)) this.queueWork(c);
  }

  private queueWork(c: number): void {
    if (this.core.m.irqWorkQueue(this.works[c]!)) this.irqWorks++;
  }

  /** `free_deferred_objects()` for CPU `c` (the irq_work). */
  freeDeferred(c: number): void {
    this.drainObjects(this.objLists[c]!);
    this.drainSlabs(this.slabLists[c]!);
  }

  /** The per-cache list check of an ordinary free (first proposal). */
  drainCacheIfAny(s: KmemCache): void {
    const list = s.deferList!;
    if (list.empty()) return;
    this.drainObjects(list);
  }

  private drainObjects(list: DeferList): void {
    const core = this.core;
    const m = core.m;
    let node = list.delAll();
    while (node !== 0) {
      const next = list.next(node);
      const slab = core.slabOf(node);
      const s = core.byId[core.slabs.cache[slab]!]!;
      // The free-pointer word carried the llist link: clear it.
      m.store(node, 0, core.siteFreelist);
      const x = node - s.offset;
      const i = core.objIndex(s, slab, x);
      core.objs.state[i] = ObjState.FREE;
      this.drained++;
      core.stat(s, Stat.DEFER_DRAIN);
      core.slabFreeSlow(s, slab, x, x, 1);
      node = next;
    }
  }

  private drainSlabs(list: DeferList): void {
    const core = this.core;
    const t = core.slabs;
    let node = list.delAll();
    while (node !== 0) {
      const next = list.next(node);
      // The llist node is the descriptor's link word.
      const id = t.descToId.get(node - D_LINK)!;
      const s = core.byId[t.cache[id]!]!;
      t.flags[id] = t.flags[id]! & ~SlabFlag.DEFERRED;
      const flush = core.m.load(node - D_LINK + D_FLUSH, core.sitePage);
      core.deactivateSlab(s, id, flush);
      node = next;
    }
  }

  /** `defer_free_barrier()`: drain every list now. */
  barrier(): void {
    for (let c = 0; c < this.core.nrCpus; c++) this.freeDeferred(c);
    if (this.placement === 'per-cache') {
      for (const s of this.core.byId)
        if (s.deferList !== null && s.life !== 'destroyed') this.drainObjects(s.deferList);
    }
  }

  /** Visit the objects on the lists (invariant checker). */
  visit(visit: (obj: number) => void): void {
    const core = this.core;
    const mem = core.m.memory;
    const walk = (head: number): void => {
      let node = mem.read(head);
      let guard = 0;
      while (node !== 0 && guard++ < 1 << 24) {
        const slab = core.slabOf(node);
        const s = core.byId[core.slabs.cache[slab]!]!;
        visit(node - s.offset);
        node = mem.read(node);
      }
    };
    for (const l of this.objLists) walk(l.addr);
    if (this.placement === 'per-cache')
      for (const s of core.byId) if (s.deferList !== null) walk(s.deferList.addr);
  }

  /** Objects on the lists now. */
  pending(): number {
    let n = 0;
    this.visit(() => {
      n++;
    });
    return n;
  }
}
