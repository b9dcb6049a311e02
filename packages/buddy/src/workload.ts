import { Completion, type Task } from '@sim/cpu';
import { __GFP_ZERO, GFP_HIGHUSER_MOVABLE } from '@sim/gfp';
import { BuddyError, show } from './errors.js';
import { type BuddyCore, coreOf } from './page-alloc.js';
import { PageFlag } from './page-map.js';

/** What a workload's memory is: anonymous (heap, stack) or page cache (file data). @public */
export type WorkloadKind = 'anon' | 'file';

/** `OOM_SCORE_ADJ_MIN`: a task the OOM killer never picks. @public */
export const OOM_SCORE_ADJ_MIN = -1000;
/** `OOM_SCORE_ADJ_MAX`. @public */
export const OOM_SCORE_ADJ_MAX = 1000;

/** Options of `createWorkload()`. @public */
export interface WorkloadOptions {
  /** Anonymous memory or page cache. */
  readonly kind: WorkloadKind;
  /** Command name; default the task's, or `'workload'`. */
  readonly comm?: string;
  /** `oom_score_adj`, -1000..1000. Default 0. */
  readonly oomScoreAdj?: number;
  /** UID printed in OOM reports. Default 0. */
  readonly uid?: number;
  /** Page cache only: the file is mmap()ed, so its pages count as file RSS. Default false. */
  readonly mapped?: boolean;
  /** Preferred node; default the faulting CPU's. */
  readonly nid?: number;
  /** Virtual size in pages (`total_vm`); default grows with the faulted pages. */
  readonly totalVmPages?: number;
}

/** Options of `spawnWorkload()`: a task that faults `pages` pages over time. @public */
export interface SpawnWorkloadOptions extends WorkloadOptions {
  /** Pages to fault in. */
  readonly pages: number;
  /** Pages per step. Default 64. */
  readonly pagesPerStep?: number;
  /** Sleep between steps, ns. Default 1 ms. */
  readonly stepNs?: number;
  /** Once all pages are in: hold them this long then exit; null holds until killed. Default null. */
  readonly holdNs?: number | null;
  /** CPU to run on. */
  readonly cpu?: number;
}

/**
 * A memory consumer for scenarios: a process (`struct mm_struct` with its
 * task) whose pages are anonymous memory or page cache. Its pages sit on the
 * node's LRU lists, so reclaim can take page cache (and anonymous memory when
 * swap exists), and the OOM killer can choose and kill it, freeing its
 * anonymous memory.
 * @public
 */
export class Workload {
  /** Identifier (also the owner id on the page LRU). */
  readonly id: number;
  /** Anonymous memory or page cache. */
  readonly kind: WorkloadKind;
  /** Command name. */
  readonly comm: string;
  /** UID printed in OOM reports. */
  readonly uid: number;
  /** `oom_score_adj`. */
  readonly oomScoreAdj: number;
  /** Whether page-cache pages are mapped (file RSS). */
  readonly mapped: boolean;
  /** The task, when the workload runs as one. */
  task: Task | null = null;
  /** Resident anonymous pages (`MM_ANONPAGES`). */
  anonPages = 0;
  /** Page-cache pages this workload brought in and still holds. */
  filePages = 0;
  /** Anonymous pages written to swap (`MM_SWAPENTS`). */
  swapents = 0;
  /** Pages faulted in over the workload's life. */
  faulted = 0;
  /** Chosen by the OOM killer (`tsk_is_oom_victim()`). */
  oomVictim = false;
  /** SIGKILL received. */
  killed = false;
  /** Its memory was released (`exit_mmap()`). */
  exited = false;
  /** Completed when the workload is killed. */
  readonly killedCompletion: Completion;
  private readonly core: BuddyCore;
  private readonly nid: number;
  private readonly fixedVm: number;
  private maxPages = 0;
  private readonly ownPid: number;
  /** First and last pfn of the mm's page list. */
  private head = -1;
  private tail = -1;

  /** @internal */
  constructor(owner: object, id: number, pid: number, opts: WorkloadOptions, task: Task | null) {
    const core = coreOf(owner);
    this.core = core;
    this.id = id;
    this.kind = opts.kind;
    this.task = task;
    this.ownPid = pid;
    this.comm = (opts.comm ?? task?.comm ?? 'workload').slice(0, 15);
    this.uid = opts.uid ?? 0;
    this.oomScoreAdj = opts.oomScoreAdj ?? 0;
    this.mapped = opts.kind === 'file' && opts.mapped === true;
    this.nid = opts.nid ?? -1;
    this.fixedVm = opts.totalVmPages ?? 0;
    this.killedCompletion = new Completion(core.m);
  }

  /** Process id (the task's, or a number of its own when it has none). */
  get pid(): number {
    return this.task?.pid ?? this.ownPid;
  }

  /** Resident pages counted by `get_mm_rss()`. */
  get rss(): number {
    return this.anonPages + this.rssFile;
  }

  /** `MM_FILEPAGES`: mapped page cache. */
  get rssFile(): number {
    return this.mapped ? this.filePages : 0;
  }

  /** `total_vm` in pages. */
  get totalVm(): number {
    return Math.max(this.fixedVm, this.maxPages);
  }

  /** `mm_pgtables_bytes()`: one PTE page per 512 pages, one PMD page per 1 GiB, plus PGD and PUD. */
  get pgtablesBytes(): number {
    const vm = this.totalVm;
    return (Math.ceil(vm / 512) + Math.ceil(vm / 262144) + 2) * 4096;
  }

  /**
   * Fault in up to `count` pages now, in the current context, with
   * GFP_HIGHUSER_MOVABLE (zeroed for anonymous memory). Stops at the first
   * failed allocation or when killed. Returns the pages faulted in.
   */
  fault(count = 1): number {
    if (!Number.isInteger(count) || count < 0) {
      throw new BuddyError(
        'BAD_ARGUMENT',
        'count',
        `fault(${show(count)}): accepted an integer >= 0`,
      );
    }
    if (this.exited) return 0;
    const core = this.core;
    const anon = this.kind === 'anon';
    const gfp = anon ? GFP_HIGHUSER_MOVABLE | __GFP_ZERO : GFP_HIGHUSER_MOVABLE;
    let n = 0;
    for (; n < count; n++) {
      if (this.killed) break;
      const pfn = core.allocPages(gfp, 0, this.nid, false);
      if (pfn < 0) break;
      if (this.killed || this.exited) {
        // Killed while allocating: the page goes straight back.
        core.freeFrozenPages(pfn, 0, 0);
        break;
      }
      core.vmscan.lruAdd(pfn, anon, this.id);
      this.link(pfn);
      this.faulted++;
      if (anon) this.anonPages++;
      else this.filePages++;
      const total = this.anonPages + this.filePages + this.swapents;
      if (total > this.maxPages) this.maxPages = total;
    }
    return n;
  }

  /** Mark the `count` most recently faulted pages accessed (`folio_mark_accessed()`). */
  touch(count: number): void {
    let pfn = this.tail;
    for (let i = 0; i < count && pfn >= 0; i++) {
      this.core.vmscan.markAccessed(pfn);
      pfn = this.core.mmPrev[pfn]!;
    }
  }

  /**
   * Give back up to `count` of the oldest pages (munmap / truncate): they
   * leave the LRU and return to the page allocator. Returns pages released.
   */
  release(count: number = Number.POSITIVE_INFINITY): number {
    let n = 0;
    while (n < count && this.head >= 0) {
      const pfn = this.head;
      this.freePage(pfn);
      n++;
    }
    return n;
  }

  /**
   * `exit_mmap()`: free the anonymous memory and swap; page cache stays
   * cached (on the LRU, now unowned). Idempotent.
   */
  exit(): void {
    if (this.exited) return;
    const core = this.core;
    let pfn = this.head;
    while (pfn >= 0) {
      const next = core.mmNext[pfn]!;
      if ((core.pm.flags[pfn]! & PageFlag.ANON) !== 0) this.freePage(pfn);
      else {
        this.unlink(pfn);
        core.pm.owner[pfn] = 0;
        this.filePages--;
      }
      pfn = next;
    }
    core.swapUsed -= this.swapents;
    this.swapents = 0;
    this.exited = true;
    core.workloads[this.id] = null;
    if (this.task !== null) core.mmSlot.set(this.task, null);
  }

  /** SIGKILL: the task stops faulting and exits at its next step. */
  kill(): void {
    if (this.killed) return;
    this.killed = true;
    this.killedCompletion.completeAll();
  }

  /**
   * The OOM reaper's work (`__oom_reap_task_mm()`): unmap and free the
   * anonymous memory now, leaving the file pages cached.
   * @internal
   */
  reap(): void {
    const core = this.core;
    let pfn = this.head;
    while (pfn >= 0) {
      const next = core.mmNext[pfn]!;
      if ((core.pm.flags[pfn]! & PageFlag.ANON) !== 0) this.freePage(pfn);
      pfn = next;
    }
  }

  /** Reclaim took one of our pages. @internal */
  pageReclaimed(pfn: number, anon: boolean): void {
    this.unlink(pfn);
    if (anon) {
      this.anonPages--;
      this.swapents++;
    } else {
      this.filePages--;
    }
  }

  private freePage(pfn: number): void {
    const core = this.core;
    const anon = (core.pm.flags[pfn]! & PageFlag.ANON) !== 0;
    this.unlink(pfn);
    core.vmscan.lruDel(pfn);
    core.freeFrozenPages(pfn, 0, 0);
    if (anon) this.anonPages--;
    else this.filePages--;
  }

  private link(pfn: number): void {
    const next = this.core.mmNext;
    const prev = this.core.mmPrev;
    prev[pfn] = this.tail;
    next[pfn] = -1;
    if (this.tail >= 0) next[this.tail] = pfn;
    else this.head = pfn;
    this.tail = pfn;
  }

  private unlink(pfn: number): void {
    const next = this.core.mmNext;
    const prev = this.core.mmPrev;
    const n = next[pfn]!;
    const p = prev[pfn]!;
    if (p >= 0) next[p] = n;
    else this.head = n;
    if (n >= 0) prev[n] = p;
    else this.tail = p;
    next[pfn] = -1;
    prev[pfn] = -1;
  }
}
