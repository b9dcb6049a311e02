import { KernelPanic } from '@sim/cpu';
import { __GFP_FS, formatGfpMode } from '@sim/gfp';
import type { BuddyCore } from './page-alloc.js';
import { showMemLines } from './show-mem.js';
import { OOM_SCORE_ADJ_MIN, type Workload } from './workload.js';

/** What the OOM killer did, for tests and reports. @public */
export interface OomKillRecord {
  /** Victim pid. */
  readonly pid: number;
  /** Victim command. */
  readonly comm: string;
  /** Badness points it was chosen with. */
  readonly points: number;
  /** Memory freed by reaping, in pages. */
  readonly reapedPages: number;
  /** Virtual time of the kill, ns. */
  readonly time: number;
  /** GFP mask of the allocation that invoked the killer. */
  readonly gfp: number;
  /** Its order. */
  readonly order: number;
}

const K = (pages: number): number => pages * 4;

/**
 * The OOM killer (mm/oom_kill.c): pick the workload with the highest
 * `oom_badness()`, print the kernel's report (`dump_header()`,
 * `dump_tasks()`, `dump_oom_victim()`), kill it and reap its anonymous
 * memory. The reaper runs at once rather than after `OOM_REAPER_DELAY`: an
 * allocation that is looping in the slow path cannot wait for other
 * simulated tasks to run.
 * @internal
 */
export class OomKiller {
  readonly kills: OomKillRecord[] = [];
  private readonly fnOom: number;

  constructor(private readonly core: BuddyCore) {
    this.fnOom = core.m.fnId('out_of_memory');
  }

  /** `totalram_pages() + total_swap_pages`. */
  private totalPages(): number {
    return this.core.totalramPages() + this.core.swapPages;
  }

  /** `oom_badness()`: rss + swap + page tables, adjusted by oom_score_adj; null if unkillable. */
  badness(w: Workload, totalpages: number): number | null {
    if (w.exited || w.oomScoreAdj === OOM_SCORE_ADJ_MIN) return null;
    const points = w.rss + w.swapents + Math.floor(w.pgtablesBytes / 4096);
    return points + w.oomScoreAdj * Math.floor(totalpages / 1000);
  }

  /** `select_bad_process()`: the highest badness, the later workload on ties. */
  private selectBadProcess(): { victim: Workload; points: number } | null {
    const total = this.totalPages();
    let best: Workload | null = null;
    let bestPoints = Number.NEGATIVE_INFINITY;
    for (const w of this.core.workloads) {
      if (w === null || w.oomVictim) continue;
      const p = this.badness(w, total);
      if (p === null || p < bestPoints) continue;
      best = w;
      bestPoints = p;
    }
    return best === null ? null : { victim: best, points: bestPoints };
  }

  /**
   * `out_of_memory()`: returns true when it made progress (killed something,
   * or the caller has no `__GFP_FS` and must not kill), false otherwise.
   */
  outOfMemory(gfp: number, order: number): boolean {
    const core = this.core;
    const m = core.m;
    const cur = core.currentMm();
    if (cur !== null && (cur.killed || cur.exited) && !cur.oomVictim) {
      // task_will_free_mem(current): let the dying task have the reserves.
      cur.oomVictim = true;
      cur.reap();
      return true;
    }
    if ((gfp & __GFP_FS) === 0) return true;
    m.fnEnter(this.fnOom);
    try {
      if (core.opts.panicOnOom !== 0) {
        this.dumpHeader(gfp, order);
        this.panic(
          `Out of memory: ${core.opts.panicOnOom === 2 ? 'compulsory' : 'system-wide'} panic_on_oom is enabled`,
        );
      }
      const chosen = this.selectBadProcess();
      if (chosen === null) {
        this.dumpHeader(gfp, order);
        m.printk('warning', 'Out of memory and no killable processes...');
        this.panic('System is deadlocked on memory');
      }
      this.killProcess(chosen.victim, chosen.points, gfp, order);
      return true;
    } finally {
      m.fnExit();
    }
  }

  private panic(msg: string): never {
    const m = this.core.m;
    const rec = m.report({
      kind: 'oom-panic',
      lines: [`Kernel panic - not syncing: ${msg}`],
      withStack: true,
      level: 'emerg',
      details: { message: msg },
    });
    throw new KernelPanic('oom-panic', rec.seq, `Kernel panic - not syncing: ${msg}`);
  }

  /** `dump_header()`: the "invoked oom-killer" line, stack, Mem-Info and the task list. */
  private dumpHeader(gfp: number, order: number): void {
    const core = this.core;
    const m = core.m;
    const cur = core.currentMm();
    const lines = [
      `${m.current.comm} invoked oom-killer: gfp_mask=${formatGfpMode(gfp)}, order=${order}, oom_score_adj=${cur?.oomScoreAdj ?? 0}`,
    ];
    if (order > 0) lines.push('COMPACTION is disabled!!!');
    m.report({
      kind: 'oom-invoked',
      lines,
      withStack: true,
      frames: ['dump_header', 'oom_kill_process'],
      level: 'warning',
      details: { gfp, order, mode: formatGfpMode(gfp) },
    });
    m.printk('warning', showMemLines(core, core.highestSlot(gfp)).join('\n'));
    m.printk('info', this.dumpTasks().join('\n'));
  }

  /** `dump_tasks()`. */
  dumpTasks(): string[] {
    const out = [
      'Tasks state (memory values in pages):',
      '[  pid  ]   uid  tgid total_vm      rss rss_anon rss_file rss_shmem pgtables_bytes swapents oom_score_adj name',
    ];
    for (const w of this.core.workloads) {
      if (w === null) continue;
      out.push(
        `[${String(w.pid).padStart(7)}] ${String(w.uid).padStart(5)} ${String(w.pid).padStart(5)} ${String(w.totalVm).padStart(8)} ${String(w.rss).padStart(8)} ${String(w.anonPages).padStart(8)} ${String(w.rssFile).padStart(8)} ${String(0).padStart(9)} ${String(w.pgtablesBytes).padStart(8)} ${String(w.swapents).padStart(8)}         ${String(w.oomScoreAdj).padStart(5)} ${w.comm}`,
      );
    }
    return out;
  }

  /** `oom_kill_process()` + `__oom_kill_process()` + the reaper. */
  private killProcess(victim: Workload, points: number, gfp: number, order: number): void {
    const core = this.core;
    const m = core.m;
    const ok = core.oomRs.allow(m.jiffies, (missed) =>
      m.printk('warning', `oom_kill_process: ${missed} callbacks suppressed`),
    );
    if (ok) {
      this.dumpHeader(gfp, order);
      m.printk(
        'info',
        `oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=${core.memsAllowed()},global_oom,task_memcg=/,task=${victim.comm},pid=${victim.pid},uid=${victim.uid}`,
      );
    }
    core.events.oomKill++;
    victim.kill();
    victim.oomVictim = true;
    const anonKb = K(victim.anonPages);
    const fileKb = K(victim.rssFile);
    m.report({
      kind: 'oom-kill',
      lines: [
        `Out of memory: Killed process ${victim.pid} (${victim.comm}) total-vm:${K(victim.totalVm)}kB, anon-rss:${anonKb}kB, file-rss:${fileKb}kB, shmem-rss:0kB, UID:${victim.uid} pgtables:${victim.pgtablesBytes >> 10}kB oom_score_adj:${victim.oomScoreAdj}`,
      ],
      level: 'err',
      details: {
        pid: victim.pid,
        comm: victim.comm,
        points,
        totalVmKb: K(victim.totalVm),
        anonRssKb: anonKb,
        fileRssKb: fileKb,
        oomScoreAdj: victim.oomScoreAdj,
      },
    });
    const before = victim.anonPages;
    victim.reap();
    m.printk(
      'info',
      `oom_reaper: reaped process ${victim.pid} (${victim.comm}), now anon-rss:${K(victim.anonPages)}kB, file-rss:${K(victim.rssFile)}kB, shmem-rss:0kB`,
    );
    if (victim.task !== null && !victim.task.dead) m.wakeUpProcess(victim.task);
    this.kills.push({
      pid: victim.pid,
      comm: victim.comm,
      points,
      reapedPages: before - victim.anonPages,
      time: m.now(),
      gfp,
      order,
    });
  }
}
