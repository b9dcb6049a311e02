import { MachineError, show } from './errors.js';
import { type EventCallback, NO_EVENT } from './event-queue.js';
import { HRTIMER_MODE_ABS, HRTIMER_MODE_HARD, Hrtimer } from './hrtimer.js';
import type { Machine } from './machine.js';
import { formatPreemptCount } from './preempt-count.js';
import { RunQueue } from './runqueue.js';
import { type SpawnOptions, Task, type TaskBody } from './task.js';
import * as tk from './task-state.js';
import { TimerList } from './timer.js';
import * as wt from './wait.js';
import { Wait } from './wait.js';

// Module-local copies keep the hot loop free of import indirection.
const DEFAULT_PRIO = tk.DEFAULT_PRIO;
const MAX_RT_PRIO = tk.MAX_RT_PRIO;
const TASK_DEAD = tk.TASK_DEAD;
const TASK_INTERRUPTIBLE = tk.TASK_INTERRUPTIBLE;
const TASK_RUNNING = tk.TASK_RUNNING;
const WAIT_BLOCK = wt.WAIT_BLOCK;
const WAIT_YIELD = wt.WAIT_YIELD;

/** Hook called on every context switch (`rcu_note_context_switch()` and friends). @public */
export type ContextSwitchHook = (cpu: number, prev: Task, next: Task) => void;
/** Hook called with a CPU number (idle entry/exit). @public */
export type CpuHook = (cpu: number) => void;
/** Hook called from the scheduler tick (`update_process_times(user)`). @public */
export type TickHook = (cpu: number, user: boolean) => void;

const TASK_EXITED = 4;

/** Call-trace entries of a "scheduling while atomic" report from `schedule()`, innermost first. @internal */
export const SCHEDULE_FRAMES: readonly string[] = ['__schedule_bug', '__schedule', 'schedule'];

function isGenerator(v: unknown): v is Generator<Wait<unknown>, unknown, unknown> {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Generator).next === 'function' &&
    typeof (v as Generator).throw === 'function'
  );
}

/**
 * Tasks, run queues, context switches and wakeups (kernel/sched/core.c reduced
 * to priority order with FIFO among equals and a time slice for normal tasks).
 * @internal
 */
export class Scheduler {
  readonly curr: Task[] = [];
  readonly idle: Task[] = [];
  readonly rq: RunQueue[] = [];
  readonly needResched: Uint8Array;
  readonly stepHandle: Float64Array;
  /** End of the busy period the current task is burning, or -1. */
  readonly busyEnd: Float64Array;
  /** Clock value up to which busy time was accounted. */
  readonly busyFrom: Float64Array;
  readonly tasks: Task[] = [];
  readonly switchHooks: ContextSwitchHook[] = [];
  readonly idleEnterHooks: CpuHook[] = [];
  readonly idleExitHooks: CpuHook[] = [];
  readonly tickHooks: TickHook[] = [];
  needsCpu: ((cpu: number) => boolean) | null = null;
  slotCount = 0;
  readonly stepFn: EventCallback;
  private readonly drivers: (Task | undefined)[] = [];
  private nextPid = 1;
  private readonly m: Machine;
  private readonly nr: number;
  /** Base time slice of a normal task (`sysctl_sched_base_slice` scaled by CPU count). */
  readonly sliceNs: number;

  constructor(m: Machine, nrCpus: number) {
    this.m = m;
    this.nr = nrCpus;
    this.needResched = new Uint8Array(nrCpus);
    this.stepHandle = new Float64Array(nrCpus).fill(NO_EVENT);
    this.busyEnd = new Float64Array(nrCpus).fill(-1);
    this.busyFrom = new Float64Array(nrCpus);
    // EEVDF base slice 0.75 ms times (1 + ilog2(min(ncpus, 8))), the default
    // SCHED_TUNABLESCALING_LOG factor.
    this.sliceNs = 750_000 * (1 + Math.floor(Math.log2(Math.min(nrCpus, 8))));
    this.stepFn = (arg: unknown) => this.runCpu(arg as number);
    for (let c = 0; c < nrCpus; c++) {
      const idle = new Task(m, 0, `swapper/${c}`, null, {
        cpu: c,
        prio: MAX_RT_PRIO + 40,
        kthread: true,
        affinity: [c],
        idle: true,
        nrCpus,
      });
      this.idle.push(idle);
      this.curr.push(idle);
      this.rq.push(new RunQueue());
    }
  }

  // ---- task creation ------------------------------------------------------------

  spawn(body: TaskBody, opts: SpawnOptions = {}, startSleeping = false): Task {
    const m = this.m;
    if (typeof body !== 'function') {
      throw new MachineError('BAD_ARGUMENT', `spawn(${show(body)}): accepted a generator function`);
    }
    if (typeof opts !== 'object' || opts === null) {
      throw new MachineError('BAD_ARGUMENT', `spawn options ${show(opts)}: accepted an object`);
    }
    const comm = opts.comm ?? 'task';
    if (typeof comm !== 'string' || comm.length === 0) {
      throw new MachineError(
        'BAD_ARGUMENT',
        `spawn comm ${show(opts.comm)}: accepted a non-empty string`,
      );
    }
    const prio = opts.prio ?? DEFAULT_PRIO;
    if (!Number.isInteger(prio) || prio < 0 || prio > 139) {
      throw new MachineError(
        'BAD_ARGUMENT',
        `spawn prio ${show(opts.prio)}: accepted an integer in [0, 139]`,
      );
    }
    let affinity: readonly number[] | null = null;
    if (opts.affinity !== undefined) {
      if (!Array.isArray(opts.affinity) || opts.affinity.length === 0) {
        throw new MachineError(
          'BAD_ARGUMENT',
          `spawn affinity ${show(opts.affinity)}: accepted a non-empty array of CPU numbers`,
        );
      }
      for (const c of opts.affinity) m.checkCpu(c, 'spawn affinity');
      affinity = opts.affinity;
    }
    if (opts.cpu !== undefined) {
      m.checkCpu(opts.cpu, 'spawn cpu');
      if (affinity !== null && !affinity.includes(opts.cpu)) {
        throw new MachineError(
          'BAD_ARGUMENT',
          `spawn cpu ${opts.cpu} is outside its affinity [${affinity.join(', ')}]`,
        );
      }
    }
    const kthread = opts.kthread ?? false;
    const t = new Task(m, this.nextPid++, comm, body, {
      cpu: opts.cpu ?? 0,
      prio,
      kthread,
      affinity,
      idle: false,
      nrCpus: this.nr,
    });
    t.cpu = opts.cpu ?? this.selectIdlest(t);
    t.lastRanAt = m.now();
    this.tasks.push(t);
    if (m.tracing) m.tracer.taskName(t);
    if (startSleeping) {
      t.state = TASK_INTERRUPTIBLE;
    } else {
      this.enqueueWoken(t, t.cpu);
    }
    return t;
  }

  /** The per-CPU task `runOn()` uses when the CPU is idle. */
  driver(c: number): Task {
    let t = this.drivers[c];
    if (t === undefined) {
      t = new Task(this.m, this.nextPid++, `driver/${c}`, null, {
        cpu: c,
        prio: DEFAULT_PRIO,
        kthread: false,
        affinity: null,
        idle: false,
        nrCpus: this.nr,
      });
      this.drivers[c] = t;
      this.tasks.push(t);
    }
    return t;
  }

  private selectIdlest(t: Task): number {
    let best = -1;
    let bestLoad = Number.POSITIVE_INFINITY;
    const start = this.m.curCpu;
    for (let i = 0; i < this.nr; i++) {
      const c = (start + i) % this.nr;
      if (!t.canRunOn(c)) continue;
      const load = this.rq[c]!.length + (this.curr[c]!.isIdle ? 0 : 1);
      if (load < bestLoad) {
        best = c;
        bestLoad = load;
        if (load === 0) break;
      }
    }
    return best;
  }

  // ---- wakeups ----------------------------------------------------------------------

  /** `try_to_wake_up()`: make a sleeping task runnable. */
  wakeUp(t: Task): boolean {
    if (t.state === TASK_RUNNING || t.state === TASK_DEAD) return false;
    t.state = TASK_RUNNING;
    const m = this.m;
    if (this.curr[t.cpu] === t) {
      // Woken between set_current_state() and schedule(): it never slept.
      return true;
    }
    m.clock[m.curCpu]! += m.costs.wakeup;
    if (t.worker !== null) m.wq.workerWaking(t);
    this.enqueueWoken(t, this.selectTaskRq(t));
    return true;
  }

  private enqueueWoken(t: Task, c: number): void {
    const m = this.m;
    t.cpu = c;
    this.rq[c]!.push(t, false);
    if (m.tracing)
      m.tracer.instant(m.curCpu, m.clock[m.curCpu]!, `wakeup ${t.comm}/${t.pid}`, { cpu: c });
    const curr = this.curr[c]!;
    // The woken task cannot start before it last stopped (its own causality).
    const at = Math.max(m.clock[m.curCpu]!, t.lastRanAt);
    if (curr.isIdle || t.prio < curr.prio) this.resched(c, at);
  }

  /** `select_task_rq()`: previous CPU if idle, else an idle allowed CPU, else previous. */
  private selectTaskRq(t: Task): number {
    const prev = t.cpu;
    if (t.migrationDisabled > 0) return prev;
    const prevOk = t.canRunOn(prev);
    if (prevOk && this.curr[prev]!.isIdle && this.rq[prev]!.length === 0) return prev;
    for (let i = 1; i < this.nr; i++) {
      const c = (prev + i) % this.nr;
      if (t.canRunOn(c) && this.curr[c]!.isIdle && this.rq[c]!.length === 0) return c;
    }
    if (prevOk) return prev;
    for (let c = 0; c < this.nr; c++) if (t.canRunOn(c)) return c;
    return prev;
  }

  /** `resched_curr()`: ask CPU `c` to reschedule as soon as it can, at time `at`. */
  resched(c: number, at: number): void {
    this.needResched[c] = 1;
    const m = this.m;
    if (m.executing && m.curCpu === c) return; // noticed at the next preemption point
    const curr = this.curr[c]!;
    if (curr.isIdle) {
      this.ensureStep(c, at);
    } else if (this.busyEnd[c]! >= 0 && this.canPreempt(c)) {
      this.preemptBusy(c, at);
    }
  }

  canPreempt(c: number): boolean {
    const m = this.m;
    return m.preemptive && m.ctx.pc[c] === 0 && m.ctx.irqsOff[c] === 0;
  }

  ensureStep(c: number, at: number): void {
    const q = this.m.queue;
    const h = this.stepHandle[c]!;
    if (q.isPending(h)) {
      if (q.timeOf(h) <= at) return;
      q.cancel(h);
    }
    this.stepHandle[c] = q.push(at, c, this.stepFn, c);
  }

  private preemptBusy(c: number, at: number): void {
    const m = this.m;
    const t = this.curr[c]!;
    const now = Math.max(m.clock[c]!, at);
    t.busyRemaining = Math.max(0, this.busyEnd[c]! - now);
    this.busyEnd[c] = -1;
    m.queue.cancel(this.stepHandle[c]!);
    this.stepHandle[c] = m.queue.push(now, c, this.stepFn, c);
  }

  /**
   * After an interrupt or a driver call on CPU `c` outside its task step:
   * account stolen busy time, leave idle, or preempt a busy task.
   */
  settle(c: number, before: number): void {
    const m = this.m;
    if (this.busyEnd[c]! >= 0) {
      const from = Math.max(before, this.busyFrom[c]!);
      const stolen = m.clock[c]! - from;
      if (stolen > 0) {
        // Interrupt time is stolen from the interrupted task's busy period.
        this.busyEnd[c] = this.busyEnd[c]! + stolen;
        this.busyFrom[c] = m.clock[c]!;
        m.queue.cancel(this.stepHandle[c]!);
        this.stepHandle[c] = m.queue.push(this.busyEnd[c]!, c, this.stepFn, c);
      }
      if (this.needResched[c] === 1 && this.canPreempt(c)) this.preemptBusy(c, m.clock[c]!);
      return;
    }
    const curr = this.curr[c]!;
    if (curr.isIdle) {
      if (this.rq[c]!.length > 0) this.ensureStep(c, m.clock[c]!);
      else m.tick.idleReprogram(c);
    } else if (curr.state === TASK_RUNNING && !m.queue.isPending(this.stepHandle[c]!)) {
      this.ensureStep(c, m.clock[c]!);
    }
  }

  /** `rt_mutex_setprio()`/`sched_setscheduler()`: change a task's priority. */
  setPrio(t: Task, prio: number): void {
    const m = this.m;
    const old = t.prio;
    if (old === prio) return;
    const c = t.cpu;
    if (t.onRq) {
      const rq = this.rq[c]!;
      rq.remove(t);
      t.prio = prio;
      rq.push(t, false);
      const curr = this.curr[c]!;
      if (curr.isIdle || prio < curr.prio) this.resched(c, m.clock[m.curCpu]!);
      return;
    }
    t.prio = prio;
    if (this.curr[c] === t && prio > old) {
      // The running task lost priority: let a now-better queued task in.
      const best = this.rq[c]!.peek();
      if (best !== undefined && best.prio < prio) this.resched(c, m.clock[m.curCpu]!);
    }
  }

  // ---- the CPU loop -------------------------------------------------------------

  private runCpu(c: number): void {
    this.stepHandle[c] = NO_EVENT;
    if (this.busyEnd[c]! >= 0) {
      this.busyEnd[c] = -1;
      const t = this.curr[c]!;
      t.busyRemaining = 0;
      t.busyUser = false;
    }
    this.loop(c);
  }

  private loop(c: number): void {
    const m = this.m;
    let rounds = 0;
    for (;;) {
      let t = this.curr[c]!;
      if (
        t.isIdle ||
        t.state !== TASK_RUNNING ||
        (this.needResched[c] === 1 && this.canPreempt(c))
      ) {
        const next = this.pickNext(c, t);
        this.needResched[c] = 0;
        if (next !== t) this.contextSwitch(c, t, next);
        t = next;
      }
      if (t.isIdle) return;
      if (t.busyRemaining > 0) {
        this.parkBusy(c, t);
        return;
      }
      // Keep CPUs interleaved in virtual time: if this CPU ran ahead of the
      // next pending event, let that event run first.
      if (m.clock[c]! > m.queue.peekTime() || ++rounds > 4096) {
        this.ensureStep(c, m.clock[c]!);
        return;
      }
      const action = this.resume(c, t);
      if (action === WAIT_YIELD) {
        if (this.needResched[c] === 1 && m.ctx.pc[c] === 0 && m.ctx.irqsOff[c] === 0) {
          const next = this.pickNext(c, t);
          this.needResched[c] = 0;
          if (next !== t) {
            t.resumeValue = true;
            this.contextSwitch(c, t, next);
          }
        }
      }
      // WAIT_CONTINUE, WAIT_BLOCK, WAIT_BUSY and exit are handled at the loop top.
    }
  }

  private parkBusy(c: number, t: Task): void {
    const m = this.m;
    const now = m.clock[c]!;
    this.busyEnd[c] = now + t.busyRemaining;
    this.busyFrom[c] = now;
    t.busyRemaining = 0;
    this.stepHandle[c] = m.queue.push(this.busyEnd[c]!, c, this.stepFn, c);
  }

  /** Resume the body of `t` until its next yield; returns the wait action. */
  private resume(c: number, t: Task): number {
    const m = this.m;
    const blocked = t.wait;
    if (blocked !== null) {
      t.wait = null;
      if (!blocked.retry(m, t)) {
        t.wait = blocked;
        this.block(c, t);
        return WAIT_BLOCK;
      }
    }
    let gen = t.gen;
    let r: IteratorResult<Wait<unknown>, unknown>;
    try {
      if (gen === null) {
        const body = t.body;
        t.body = null;
        const g = body === null ? undefined : body(t);
        if (!isGenerator(g)) {
          // A plain-function body ran to completion without sleeping.
          this.exitTask(c, t, g);
          return TASK_EXITED;
        }
        gen = g;
        t.gen = g;
      }
      r = gen.next(t.resumeValue);
    } catch (e) {
      this.killTask(c, t);
      throw e;
    }
    t.resumeValue = undefined;
    if (r.done === true) {
      this.exitTask(c, t, r.value);
      return TASK_EXITED;
    }
    const w = r.value;
    if (!(w instanceof Wait)) {
      this.killTask(c, t);
      throw new MachineError(
        'BAD_WAIT',
        `task ${t.comm}/${t.pid} yielded ${show(w)}: accepted a wait (sleep(), completion.wait(), busy(), condResched(), schedule(), …)`,
      );
    }
    const action = w.arm(m, t);
    if (action === WAIT_BLOCK) {
      t.wait = w;
      this.block(c, t);
    }
    // WAIT_CONTINUE and WAIT_BUSY: the loop resumes or parks the task.
    return action;
  }

  /** `schedule_debug()` plus the bookkeeping of a task going to sleep. */
  private block(c: number, t: Task): void {
    const m = this.m;
    // __schedule_bug() then resets the count for the task that slept.
    if (this.scheduleDebug(c, SCHEDULE_FRAMES)) m.ctx.pc[c] = 0;
    if (m.ctx.irqsOff[c] !== 0) {
      // __schedule() returns with interrupts enabled.
      if (m.ctx.hooks !== null) m.ctx.hooks.hardirqsOn();
      m.ctx.irqsOff[c] = 0;
    }
    if (t.worker !== null) m.wq.workerSleeping(t);
  }

  /** `schedule_debug()` without blocking: report sleeping from atomic context on CPU `c`. */
  scheduleDebug(c: number, frames: readonly string[]): boolean {
    const pc = this.m.ctx.pc[c]!;
    if (pc === 0) return false;
    this.schedulingWhileAtomic(this.curr[c]!, pc, frames);
    return true;
  }

  private schedulingWhileAtomic(t: Task, pc: number, frames: readonly string[]): void {
    const m = this.m;
    const lines = [`BUG: scheduling while atomic: ${t.comm}/${t.pid}/0x${formatPreemptCount(pc)}`];
    lines.push(...m.reporter.heldLockLines(t));
    lines.push('Modules linked in:');
    lines.push('Preemption disabled at:');
    lines.push(m.ipSym(m.ctx.preemptDisableFn[t.cpu]!));
    m.report({
      kind: 'scheduling-while-atomic',
      lines,
      details: { preemptCount: pc, comm: t.comm, pid: t.pid },
      taint: 'W',
      withStack: true,
      frames,
    });
  }

  private exitTask(c: number, t: Task, value: unknown): void {
    const m = this.m;
    t.result = value;
    t.gen = null;
    if (m.ctx.irqsOff[c] !== 0) {
      m.printk('err', `note: ${t.comm}[${t.pid}] exited with irqs disabled`);
      m.ctx.irqsOff[c] = 0;
    }
    if (m.ctx.pc[c] !== 0) {
      m.printk('err', `note: ${t.comm}[${t.pid}] exited with preempt_count ${m.ctx.pc[c]}`);
      m.ctx.pc[c] = 0;
    }
    t.state = TASK_DEAD;
    if (t.timeoutTimer !== null) m.timers.del(t.timeoutTimer);
    if (t.sleepTimer !== null) m.hrtimers.cancel(t.sleepTimer);
    t.exited.completeAll();
  }

  private killTask(c: number, t: Task): void {
    t.state = TASK_DEAD;
    t.gen = null;
    this.m.ctx.pc[c] = 0;
  }

  /** Choose the next task for CPU `c`; re-queues `prev` if it stays runnable. */
  private pickNext(c: number, prev: Task): Task {
    const rq = this.rq[c]!;
    const best = rq.peek();
    if (!prev.isIdle && prev.state === TASK_RUNNING) {
      if (best === undefined) return prev;
      if (best.prio < prev.prio || (best.prio === prev.prio && this.needResched[c] === 1)) {
        rq.pop();
        rq.push(prev, best.prio < prev.prio);
        return best;
      }
      return prev;
    }
    if (best === undefined) return this.idle[c]!;
    rq.pop();
    return best;
  }

  private contextSwitch(c: number, prev: Task, next: Task): void {
    const m = this.m;
    // A task never runs earlier than it last stopped, even on a CPU whose
    // clock lags behind the one it left.
    if (m.clock[c]! < next.lastRanAt) m.clock[c] = next.lastRanAt;
    m.clock[c]! += m.costs.contextSwitch;
    const now = m.clock[c]!;
    if (!prev.isIdle) {
      m.chain.save(c, prev);
      prev.sumExecNs += now - prev.runStart;
      prev.lastRanAt = now;
      if (prev.state === TASK_RUNNING) prev.nivcsw++;
      else prev.nvcsw++;
    }
    this.curr[c] = next;
    next.cpu = c;
    next.runStart = now;
    if (next.isIdle) {
      m.chain.restore(c, null);
    } else {
      m.chain.restore(c, next);
    }
    if (m.tracing) m.tracer.contextSwitch(c, now, prev, next);
    const hooks = this.switchHooks;
    for (let i = 0; i < hooks.length; i++) hooks[i]!(c, prev, next);
    if (prev.isIdle) {
      const h = this.idleExitHooks;
      for (let i = 0; i < h.length; i++) h[i]!(c);
      m.tick.idleExit(c);
    }
    if (next.isIdle) {
      const h = this.idleEnterHooks;
      for (let i = 0; i < h.length; i++) h[i]!(c);
      m.tick.idleEnter(c);
    }
  }

  // ---- tick -------------------------------------------------------------------------

  /** `sched_tick()`: slice accounting for normal tasks. */
  tick(c: number): void {
    const t = this.curr[c]!;
    if (t.isIdle || t.prio < MAX_RT_PRIO) return;
    const best = this.rq[c]!.peek();
    if (best === undefined || best.prio > t.prio) return;
    if (this.m.clock[c]! - t.runStart >= this.sliceNs) this.needResched[c] = 1;
  }

  // ---- timeouts for sleeping waits ---------------------------------------------------

  armTimeout(t: Task, jiffies: number): void {
    const m = this.m;
    let tl = t.timeoutTimer;
    if (tl === null) {
      tl = new TimerList(() => {
        t.timedOut = true;
        m.wakeUpProcess(t);
      });
      t.timeoutTimer = tl;
    }
    t.timedOut = false;
    t.timeoutDeadline = m.jiffies + jiffies;
    m.timers.mod(tl, t.timeoutDeadline, m.curCpu);
  }

  /** Stop a task's timeout; returns the jiffies left (0 if it fired). */
  cancelTimeout(t: Task): number {
    const m = this.m;
    if (t.timeoutTimer !== null) m.timers.del(t.timeoutTimer);
    if (t.timedOut) return 0;
    return Math.max(0, t.timeoutDeadline - m.jiffies);
  }

  armSleep(t: Task, ns: number): void {
    const m = this.m;
    let hr = t.sleepTimer;
    if (hr === null) {
      // hrtimer_setup_sleeper(): hard expiry, except that PREEMPT_RT moves
      // sleepers of non-real-time tasks to softirq expiry.
      const mode =
        m.rt && t.prio >= MAX_RT_PRIO ? HRTIMER_MODE_ABS : HRTIMER_MODE_ABS | HRTIMER_MODE_HARD;
      hr = new Hrtimer(() => {
        t.timedOut = true;
        m.wakeUpProcess(t);
        return 0;
      }, mode);
      t.sleepTimer = hr;
    }
    t.timedOut = false;
    m.hrtimers.start(hr, m.clock[m.curCpu]! + ns, m.curCpu);
  }
}
