import { CallChain } from './call-chain.js';
import { initialJiffies, msecsToJiffies, tickNsec } from './clock.js';
import {
  type MachineConfig,
  type PreemptModel,
  type ResolvedMachineConfig,
  resolveMachineConfig,
} from './config.js';
import { ContextState, type IrqTraceHooks } from './context.js';
import type { CostKey, CostTable } from './costs.js';
import { MachineError, show } from './errors.js';
import { type EventCallback, type EventHandle, EventQueue } from './event-queue.js';
import { IrqController, type IrqHandler } from './hardirq.js';
import { HRTIMER_MODE_REL, type Hrtimer, HrtimerBases } from './hrtimer.js';
import {
  checkTrigger,
  Injection,
  type InjectionHandler,
  type InjectionKind,
  type InjectionTrigger,
} from './injector.js';
import { type IrqWork, IrqWorkController } from './irq-work.js';
import { CacheModel, PhysicalMemory } from './memory/index.js';
import { MightSleepChecker } from './might-sleep.js';
import { NmiController, type NmiHandler } from './nmi.js';
import { PerCpu } from './percpu.js';
import type { ContextKind } from './preempt-count.js';
import * as pcl from './preempt-count.js';
import { type DmesgOptions, type LogLevel, type LogRecord, levelOf, PrintkLog } from './printk.js';
import { type Rng, RngStreams } from './prng.js';
import { ProbeRegistry } from './probes.js';
import {
  type HeldLocksProvider,
  type RcuNestDepthProvider,
  Reporter,
  type ReportFilter,
  type ReportInput,
  type ReportRecord,
  type WarnInput,
} from './report.js';
import {
  type ContextSwitchHook,
  type CpuHook,
  SCHEDULE_FRAMES,
  Scheduler,
  type TickHook,
} from './scheduler.js';
import { type SmpCallFn, SmpController } from './smp.js';
import { SoftirqController, type SoftirqHandler } from './softirq.js';
import { type TaintFlag, TaintState } from './taint.js';
import { type SpawnOptions, Task, type TaskBody, TaskSlot } from './task.js';
import { TASK_INTERRUPTIBLE, TASK_RUNNING, TASK_UNINTERRUPTIBLE } from './task-state.js';
import { TickSched } from './tick.js';
import { TIMER_IRQSAFE, type TimerList, TimerWheel } from './timer.js';
import { Tracer } from './trace.js';
import {
  BusyWait,
  CondReschedWait,
  ScheduleTimeoutWait,
  ScheduleWait,
  SleepWait,
  type Wait,
  WaitEventWait,
  type WaitQueueHead,
} from './wait.js';
import { type DelayedWork, type Work, Workqueues } from './workqueue.js';

// Module-local copies for preemptDisable()/preemptEnable(): the JIT folds a
// module's own consts, but reads an import through its module cell at every use.
const { PREEMPT_MASK, PREEMPT_OFFSET } = pcl;

/** Options of `machine.run()`. @public */
export interface RunOptions {
  /** Stop before the first event later than this virtual time (ns); afterwards every CPU's clock is at least `until`. */
  readonly until?: number;
  /** Stop after dispatching this many events. */
  readonly maxEvents?: number;
}

/** Why `run()` returned. @public */
export type RunStopReason = 'idle' | 'until' | 'maxEvents' | 'stopped';

/** Result of `machine.run()` / `runUntilIdle()`. @public */
export interface RunResult {
  /** Events dispatched by this call. */
  readonly events: number;
  readonly reason: RunStopReason;
  /** Latest CPU clock afterwards (ns). */
  readonly now: number;
}

/** Default event budget of `runUntilIdle()`. @public */
export const DEFAULT_MAX_EVENTS = 100_000_000;

/**
 * The simulated machine: CPUs with their clocks and contexts, the event
 * queue, tasks and scheduler, interrupts, timers, workqueues, per-CPU data,
 * memory and cache, probes, the kernel log and the trace. Create with
 * {@link createMachine}.
 * @public
 */
export class Machine {
  /** The validated configuration. */
  readonly config: ResolvedMachineConfig;
  /** Number of CPUs (`nr_cpu_ids`). */
  readonly nrCpus: number;
  /** Tick rate. */
  readonly hz: number;
  /** Length of a tick in ns (`TICK_NSEC`). */
  readonly tickNs: number;
  /** `jiffies` at boot (`INITIAL_JIFFIES`). */
  readonly initialJiffies: number;
  /** Preemption model. */
  readonly preemptModel: PreemptModel;
  /** `IS_ENABLED(CONFIG_PREEMPT_RT)`. */
  readonly rt: boolean;
  /** Involuntary preemption (`preempt=full` or `rt`). */
  readonly preemptive: boolean;
  /** The cost table in force. */
  readonly costs: CostTable;

  /** @internal index of the CPU executing now */
  curCpu = 0;
  /** @internal true while simulated code runs (an event, a task step, runOn) */
  executing = false;
  /** @internal per-CPU clocks in ns */
  readonly clock: Float64Array;
  /** @internal */
  readonly queue: EventQueue;
  /** @internal per-CPU count of pending NMIs and hardirq lines */
  readonly attn: Int32Array;
  /**
   * The sum of `attn` over all CPUs plus the injections attached to probes:
   * while it is 0, `probe()` has nothing to do and reads nothing else. Kept
   * by {@link Machine.attnRaise}/{@link Machine.attnTake} and by attach/detach.
   */
  private probeGate = 0;
  /** @internal */
  readonly chain: CallChain;
  /** @internal */
  readonly ctx: ContextState;
  /** @internal */
  readonly log: PrintkLog;
  /** @internal */
  readonly taint: TaintState;
  /** @internal */
  readonly reporter: Reporter;
  /** @internal */
  readonly tracer: Tracer;
  /** Whether the trace is being recorded. */
  readonly tracing: boolean;
  /** @internal */
  readonly sched: Scheduler;
  /** @internal */
  readonly timers: TimerWheel;
  /** @internal */
  readonly hrtimers: HrtimerBases;
  /** @internal */
  readonly tick: TickSched;
  /** @internal */
  readonly softirq: SoftirqController;
  /** @internal */
  readonly irq: IrqController;
  /** @internal */
  readonly nmi: NmiController;
  /** @internal */
  readonly irqWork: IrqWorkController;
  /** @internal */
  readonly smp: SmpController;
  /** @internal */
  readonly wq: Workqueues;
  /** @internal */
  readonly probes: ProbeRegistry;
  /** @internal */
  readonly checks: MightSleepChecker;

  private readonly rngs: RngStreams;
  private stopRequested = false;
  private lastEventTime = 0;
  private injections = 0;
  private memoryImpl: PhysicalMemory | null = null;
  private cacheImpl: CacheModel | null = null;
  // ContextState's preempt counts and preempt_disable_ip, shared by
  // reference, and the toggle cost, for preemptDisable()/preemptEnable().
  private readonly pcArr: Int32Array;
  private readonly pdFn: Int32Array;
  private readonly toggleCost: number;

  /** @internal use {@link createMachine} */
  constructor(config: ResolvedMachineConfig) {
    this.config = config;
    const n = config.nrCpus;
    this.nrCpus = n;
    this.hz = config.hz;
    this.tickNs = tickNsec(config.hz);
    this.initialJiffies = initialJiffies(config.hz);
    this.preemptModel = config.preempt;
    this.rt = config.preempt === 'rt';
    this.preemptive = config.preempt === 'full' || config.preempt === 'rt';
    this.costs = config.costs;
    this.clock = new Float64Array(n);
    this.queue = new EventQueue(256);
    this.attn = new Int32Array(n);
    this.rngs = new RngStreams(config.seed);
    this.chain = new CallChain(n);
    this.ctx = new ContextState(this, n, this.rt);
    this.pcArr = this.ctx.pc;
    this.pdFn = this.ctx.preemptDisableFn;
    this.toggleCost = config.costs.preemptToggle;
    this.log = new PrintkLog();
    this.taint = new TaintState();
    this.reporter = new Reporter(this);
    this.tracing = config.trace;
    this.tracer = new Tracer(n);
    this.checks = new MightSleepChecker(this);
    this.sched = new Scheduler(this, n);
    this.timers = new TimerWheel(this, n, config.hz);
    this.hrtimers = new HrtimerBases(this, n);
    this.tick = new TickSched(this, n, this.tickNs);
    this.softirq = new SoftirqController(this, n);
    this.irq = new IrqController(this, n);
    this.nmi = new NmiController(this, n);
    this.irqWork = new IrqWorkController(this, n);
    this.smp = new SmpController(this, n);
    this.wq = new Workqueues(this, n);
    this.probes = new ProbeRegistry();
    this.softirq.boot();
    this.irqWork.boot();
    this.printk(
      'notice',
      `Linux version ${config.kernelRelease} (sim) #1 SMP ${this.preemptModelStr()}`,
    );
    this.printk('info', `smp: Brought up 1 node, ${n} CPU${n > 1 ? 's' : ''}`);
  }

  // ==== CPUs and time =================================================================

  /** The CPU executing now (`raw_smp_processor_id()`). */
  get cpu(): number {
    return this.curCpu;
  }

  /** `raw_smp_processor_id()`: the current CPU, unchecked. */
  rawSmpProcessorId(): number {
    return this.curCpu;
  }

  /**
   * `smp_processor_id()` with `CONFIG_DEBUG_PREEMPT`: reports
   * "BUG: using smp_processor_id() in preemptible [...] code" when the caller
   * could migrate.
   */
  smpProcessorId(): number {
    return this.checks.checkPreemptionDisabled('smp_processor_id', '');
  }

  /** The check behind `smp_processor_id()` and `__this_cpu_*()` (`check_preemption_disabled()`). */
  checkPreemptionDisabled(what1: string, what2 = ''): number {
    return this.checks.checkPreemptionDisabled(what1, what2);
  }

  /** Virtual time of the current CPU in ns (`local_clock()`). */
  now(): number {
    return this.clock[this.curCpu]!;
  }

  /** Virtual time of CPU `cpu` in ns. */
  clockOf(cpu: number): number {
    this.checkCpu(cpu, 'clockOf');
    return this.clock[cpu]!;
  }

  /** Advance the current CPU's clock by `ns` (work that takes time). */
  charge(ns: number): void {
    this.clock[this.curCpu]! += ns;
  }

  /** Charge one operation of the cost table to the current CPU. */
  chargeCost(key: CostKey): void {
    this.clock[this.curCpu]! += this.costs[key];
  }

  /** `jiffies`, derived from the current CPU's clock. */
  get jiffies(): number {
    return this.initialJiffies + Math.floor(this.clock[this.curCpu]! / this.tickNs);
  }

  /** `msecs_to_jiffies()` at this machine's HZ. */
  msecsToJiffies(ms: number): number {
    return msecsToJiffies(ms, this.hz);
  }

  /** Named, independent PRNG stream of this machine (same name, same stream). */
  rng(stream: string): Rng {
    if (typeof stream !== 'string' || stream.length === 0) {
      throw new MachineError(
        'BAD_ARGUMENT',
        `rng(${show(stream)}): accepted a non-empty stream name`,
      );
    }
    return this.rngs.get(stream);
  }

  /** @internal */
  checkCpu(cpu: number, what: string): void {
    if (!Number.isInteger(cpu) || cpu < 0 || cpu >= this.nrCpus) {
      throw new MachineError(
        'BAD_CPU',
        `${what}: cpu ${show(cpu)} is invalid: accepted 0-${this.nrCpus - 1}`,
      );
    }
  }

  // ==== event queue and running ========================================================

  /**
   * Queue a raw event: `fn(arg)` runs on `cpu` at virtual time `time`, in
   * whatever context that CPU is in. Most code wants timers or `runOn()`.
   */
  queueEvent(time: number, cpu: number, fn: EventCallback, arg?: unknown): EventHandle {
    if (typeof time !== 'number' || Number.isNaN(time) || time < 0 || time >= 2 ** 53) {
      throw new MachineError(
        'BAD_ARGUMENT',
        `queueEvent time ${show(time)}: accepted ns in [0, 2^53)`,
      );
    }
    this.checkCpu(cpu, 'queueEvent');
    if (typeof fn !== 'function') {
      throw new MachineError(
        'BAD_ARGUMENT',
        `queueEvent callback ${show(fn)}: accepted a function`,
      );
    }
    return this.queue.push(time, cpu, fn, arg);
  }

  /** Cancel a raw event; false if it already ran. */
  cancelEvent(handle: EventHandle): boolean {
    return this.queue.cancel(handle);
  }

  /** Number of pending events. */
  get pendingEvents(): number {
    return this.queue.size;
  }

  /**
   * Dispatch events in (time, insertion) order. Each runs to completion on
   * its CPU, whose clock first becomes max(clock, event time).
   */
  run(opts: RunOptions = {}): RunResult {
    const until = opts.until ?? Number.POSITIVE_INFINITY;
    const maxEvents = opts.maxEvents ?? Number.POSITIVE_INFINITY;
    if (typeof until !== 'number' || Number.isNaN(until) || until < 0) {
      throw new MachineError('BAD_ARGUMENT', `run until ${show(opts.until)}: accepted ns >= 0`);
    }
    if (typeof maxEvents !== 'number' || Number.isNaN(maxEvents) || maxEvents < 0) {
      throw new MachineError(
        'BAD_ARGUMENT',
        `run maxEvents ${show(opts.maxEvents)}: accepted a count >= 0`,
      );
    }
    if (this.executing) {
      throw new MachineError(
        'REENTRANT_RUN',
        'run() called from simulated code: accepted only from the host',
      );
    }
    const q = this.queue;
    const clock = this.clock;
    const attn = this.attn;
    const sched = this.sched;
    this.stopRequested = false;
    let n = 0;
    let reason: RunStopReason = 'idle';
    const savedCpu = this.curCpu;
    try {
      for (;;) {
        if (q.size === 0) {
          reason = 'idle';
          break;
        }
        if (n >= maxEvents) {
          reason = 'maxEvents';
          break;
        }
        if (this.stopRequested) {
          reason = 'stopped';
          break;
        }
        const t = q.peekTime();
        if (t > until) {
          reason = 'until';
          break;
        }
        q.pop();
        const c = q.outCpu;
        if (t > this.lastEventTime) this.lastEventTime = t;
        this.curCpu = c;
        if (clock[c]! < t) clock[c] = t;
        const before = clock[c]!;
        this.executing = true;
        q.outFn!(q.outArg);
        if (attn[c] !== 0) this.deliverInterrupts(c);
        sched.settle(c, before);
        this.executing = false;
        n++;
      }
    } finally {
      this.executing = false;
      this.curCpu = savedCpu;
    }
    if (reason === 'until' || (reason === 'idle' && until !== Number.POSITIVE_INFINITY)) {
      this.syncClocks(until);
    } else if (reason === 'idle') {
      this.syncClocks(this.lastEventTime);
    }
    let now = 0;
    for (let c = 0; c < this.nrCpus; c++) if (clock[c]! > now) now = clock[c]!;
    return { events: n, reason, now };
  }

  /** Run until no event is pending (all tasks asleep with no timer armed), within `maxEvents`. */
  runUntilIdle(opts: { readonly maxEvents?: number } = {}): RunResult {
    return this.run({ maxEvents: opts.maxEvents ?? DEFAULT_MAX_EVENTS });
  }

  /** Run for `ns` more nanoseconds of the current CPU's time. */
  runFor(ns: number): RunResult {
    return this.run({ until: this.now() + ns });
  }

  /** Make a running `run()` return after the current event. */
  stop(): void {
    this.stopRequested = true;
  }

  private syncClocks(t: number): void {
    const clock = this.clock;
    for (let c = 0; c < this.nrCpus; c++) if (clock[c]! < t) clock[c] = t;
  }

  /**
   * Run `fn` now on CPU `cpu` in task context: in the task currently on that
   * CPU, or in a per-CPU driver task "driver/N" when the CPU is idle. The
   * previous current CPU is restored afterwards; interrupts left pending are
   * taken when `fn` returns.
   */
  runOn<T>(cpu: number, fn: () => T): T {
    this.checkCpu(cpu, 'runOn');
    if (typeof fn !== 'function') {
      throw new MachineError('BAD_ARGUMENT', `runOn(${cpu}, ${show(fn)}): accepted a function`);
    }
    const prevCpu = this.curCpu;
    const prevExec = this.executing;
    const sched = this.sched;
    this.curCpu = cpu;
    this.executing = true;
    let driver: Task | null = null;
    if (sched.curr[cpu]!.isIdle) {
      driver = sched.driver(cpu);
      sched.curr[cpu] = driver;
      driver.cpu = cpu;
      this.chain.restore(cpu, driver);
    }
    const before = this.clock[cpu]!;
    let ok = false;
    try {
      const r = fn();
      ok = true;
      return r;
    } finally {
      if (driver !== null) {
        this.chain.save(cpu, driver);
        sched.curr[cpu] = sched.idle[cpu]!;
        this.chain.restore(cpu, null);
      }
      if (ok) {
        if (this.attn[cpu] !== 0) this.deliverInterrupts(cpu);
        if (!prevExec || prevCpu !== cpu) sched.settle(cpu, before);
      }
      this.curCpu = prevCpu;
      this.executing = prevExec;
    }
  }

  /** @internal take pending NMIs (any irq state) and hardirqs (irqs on) of the current CPU `c` */
  deliverInterrupts(c: number): void {
    const ctx = this.ctx;
    while (this.nmi.pending(c) > 0 && (ctx.pc[c]! & 0x00f00000) === 0) this.nmi.deliverOne(c);
    while (this.irq.pendingCount[c]! > 0 && ctx.irqsOff[c] === 0) this.irq.deliverOne(c);
  }

  // ==== contexts ======================================================================

  /** `preempt_count()` of the current CPU. */
  preemptCount(): number {
    return this.ctx.pc[this.curCpu]!;
  }
  /** `softirq_count()` (on PREEMPT_RT read from the current task). */
  softirqCount(): number {
    return this.ctx.softirqCount();
  }
  /** `hardirq_count()`. */
  hardirqCount(): number {
    return this.ctx.hardirqCount();
  }
  /** `in_nmi()`. */
  inNmi(): boolean {
    return this.ctx.inNmi();
  }
  /** `in_hardirq()`. */
  inHardirq(): boolean {
    return this.ctx.inHardirq();
  }
  /** `in_softirq()`: serving softirqs or bottom halves disabled. */
  inSoftirq(): boolean {
    return this.ctx.inSoftirq();
  }
  /** `in_serving_softirq()`. */
  inServingSoftirq(): boolean {
    return this.ctx.inServingSoftirq();
  }
  /** `in_interrupt()`: NMI, hardirq or softirq context, or bottom halves disabled. */
  inInterrupt(): boolean {
    return this.ctx.inInterrupt();
  }
  /** `in_task()`. */
  inTask(): boolean {
    return this.ctx.inTask();
  }
  /** `in_atomic()`: preempt_count() != 0. */
  inAtomic(): boolean {
    return this.ctx.inAtomic();
  }
  /** `preemptible()`: preempt_count() == 0 and irqs enabled. */
  preemptible(): boolean {
    return this.ctx.preemptible();
  }
  /** `irqs_disabled()`. */
  irqsDisabled(): boolean {
    return this.ctx.irqsDisabled();
  }
  /** Context of the current CPU: 'task', 'softirq', 'hardirq' or 'nmi'. */
  context(): ContextKind {
    return this.ctx.contextKind();
  }
  /** lockdep's `hardirq_threaded`: running a hardirq handler that forced threading would thread. */
  hardirqThreaded(): boolean {
    return this.ctx.hardirqThreaded[this.curCpu] === 1 && this.ctx.inHardirq();
  }
  /** lockdep's `irq_config`: running a non-HARD hrtimer or irq_work callback in hardirq. */
  irqConfig(): boolean {
    return this.ctx.irqConfig[this.curCpu] === 1 && this.ctx.inHardirq();
  }
  /** `preempt_disable()`. */
  preemptDisable(): void {
    // Every lock and per-CPU section comes here, so it reads only this
    // object's fields (the context's arrays, shared by reference).
    const c = this.curCpu;
    const pc = this.pcArr;
    const v = pc[c]!;
    if ((v & PREEMPT_MASK) >= PREEMPT_MASK - 10) this.ctx.warnPreemptOverflow();
    pc[c] = v + PREEMPT_OFFSET;
    if (v === 0) this.pdFn[c] = this.chain.top(c);
    this.clock[c]! += this.toggleCost;
  }
  /** `preempt_enable()` (the reschedule happens at the task's next preemption point). */
  preemptEnable(): void {
    const c = this.curCpu;
    const pc = this.pcArr;
    const v = pc[c]!;
    if ((v & PREEMPT_MASK) === 0) {
      this.ctx.warnPreemptUnderflow();
      return;
    }
    pc[c] = v - PREEMPT_OFFSET;
    this.clock[c]! += this.toggleCost;
  }
  /**
   * `preempt_count_add(val)` standing for `val` nested `preempt_disable()`
   * calls made back to back, such as the per-CPU pin before a spin_trylock():
   * the same count, cost and "Preemption disabled at:" record as `val`
   * calls, in one update. Near the overflow limit it takes the calls one by
   * one, so the warnings are the same too.
   * @throws {@link MachineError} `BAD_ARGUMENT` unless `val` is an integer from 1 to 255.
   */
  preemptCountAdd(val: number): void {
    const c = this.curCpu;
    const pc = this.pcArr;
    const v = pc[c]!;
    // One test for the argument and the overflow margin; the rest is out of line.
    if (!((v & PREEMPT_MASK) + val <= PREEMPT_MASK - 10 && val >= 1 && (val | 0) === val)) {
      this.preemptCountAddSlow(val);
      return;
    }
    pc[c] = v + val * PREEMPT_OFFSET;
    if (v === 0) this.pdFn[c] = this.chain.top(c);
    this.clock[c]! += this.toggleCost * val;
  }
  /** {@link Machine.preemptCountAdd} near the overflow limit, or with a bad `val`. */
  private preemptCountAddSlow(val: number): void {
    if (!((val | 0) === val && val >= 1 && val <= PREEMPT_MASK))
      badPreemptVal('preemptCountAdd', val);
    for (let i = 0; i < val; i++) this.preemptDisable();
  }
  /**
   * `preempt_count_sub(val)` standing for `val` `preempt_enable()` calls made
   * back to back. When fewer than `val` levels are held it takes the calls
   * one by one, so the underflow warning is the same too.
   * @throws {@link MachineError} `BAD_ARGUMENT` unless `val` is an integer from 1 to 255.
   */
  preemptCountSub(val: number): void {
    const c = this.curCpu;
    const pc = this.pcArr;
    const v = pc[c]!;
    if (!((v & PREEMPT_MASK) >= val * PREEMPT_OFFSET && val >= 1 && (val | 0) === val)) {
      this.preemptCountSubSlow(val);
      return;
    }
    pc[c] = v - val * PREEMPT_OFFSET;
    this.clock[c]! += this.toggleCost * val;
  }
  /** {@link Machine.preemptCountSub} with fewer than `val` levels held, or with a bad `val`. */
  private preemptCountSubSlow(val: number): void {
    if (!((val | 0) === val && val >= 1 && val <= PREEMPT_MASK))
      badPreemptVal('preemptCountSub', val);
    for (let i = 0; i < val; i++) this.preemptEnable();
  }
  /** `local_irq_save()`: returns the flags to restore. */
  localIrqSave(): number {
    return this.ctx.localIrqSave();
  }
  /** `local_irq_restore(flags)`; pending hardirqs are taken if this enables irqs. */
  localIrqRestore(flags: number): void {
    this.ctx.localIrqRestore(flags);
  }
  /** `local_irq_disable()`. */
  localIrqDisable(): void {
    this.ctx.localIrqDisable();
  }
  /** `local_irq_enable()`; pending hardirqs are taken at once. */
  localIrqEnable(): void {
    this.ctx.localIrqEnable();
  }
  /** `local_bh_disable()`. */
  localBhDisable(): void {
    this.ctx.localBhDisable();
  }
  /** `local_bh_enable()`; pending softirqs run here when the count drops to zero. */
  localBhEnable(): void {
    this.ctx.localBhEnable();
  }
  /** `migrate_disable()`. */
  migrateDisable(): void {
    this.ctx.migrateDisable();
  }
  /** `migrate_enable()`. */
  migrateEnable(): void {
    this.ctx.migrateEnable();
  }
  /** `current->migration_disabled`. */
  migrateDisabled(): number {
    return this.current.migrationDisabled;
  }
  /** Install lockdep's irq-state trace hooks (or remove them with null). */
  setIrqTraceHooks(hooks: IrqTraceHooks | null): void {
    this.ctx.hooks = hooks;
  }

  // ==== tasks ==========================================================================

  /** `current`: the task running on the current CPU (its idle task when idle). */
  get current(): Task {
    return this.sched.curr[this.curCpu]!;
  }

  /** The task running on CPU `cpu`. */
  currentOn(cpu: number): Task {
    this.checkCpu(cpu, 'currentOn');
    return this.sched.curr[cpu]!;
  }

  /** Is CPU `cpu` running its idle task? */
  cpuIsIdle(cpu: number): boolean {
    this.checkCpu(cpu, 'cpuIsIdle');
    return this.sched.curr[cpu]!.isIdle;
  }

  /** Is the scheduler tick running on CPU `cpu` (false while stopped by NO_HZ idle)? */
  tickRunning(cpu: number): boolean {
    this.checkCpu(cpu, 'tickRunning');
    return this.tick.stopped[cpu] === 0;
  }

  /** Create a task running `body` (`kthread_run()` / `fork()`+exec). */
  spawn(body: TaskBody, opts: SpawnOptions = {}): Task {
    return this.sched.spawn(body, opts);
  }

  /** All tasks ever created, in pid order (idle tasks excluded). */
  tasks(): readonly Task[] {
    return this.sched.tasks.slice();
  }

  /** The task with `pid`, if any. */
  findTask(pid: number): Task | undefined {
    return this.sched.tasks.find((t) => t.pid === pid);
  }

  /** `set_current_state()` for the current task. */
  setCurrentState(state: number): void {
    if (state !== TASK_RUNNING && state !== TASK_INTERRUPTIBLE && state !== TASK_UNINTERRUPTIBLE) {
      throw new MachineError(
        'BAD_ARGUMENT',
        `setCurrentState(${show(state)}): accepted TASK_RUNNING, TASK_INTERRUPTIBLE or TASK_UNINTERRUPTIBLE`,
      );
    }
    const t = this.current;
    if (t.isIdle)
      throw new MachineError('NOT_IN_TASK', 'setCurrentState() on an idle CPU: accepted in a task');
    t.state = state;
  }

  /**
   * Change a task's priority (`rt_mutex_setprio()` for priority inheritance,
   * `sched_setscheduler()`): re-queues it and reschedules as needed.
   */
  setTaskPrio(task: Task, prio: number): void {
    if (!(task instanceof Task) || task.isIdle) {
      throw new MachineError(
        'BAD_ARGUMENT',
        `setTaskPrio(${show(task)}): accepted a non-idle Task`,
      );
    }
    if (!Number.isInteger(prio) || prio < 0 || prio > 139) {
      throw new MachineError(
        'BAD_ARGUMENT',
        `setTaskPrio prio ${show(prio)}: accepted an integer in [0, 139]`,
      );
    }
    this.sched.setPrio(task, prio);
  }

  /** `wake_up_process()`: true if the task was asleep. */
  wakeUpProcess(task: Task): boolean {
    if (!(task instanceof Task)) {
      throw new MachineError('BAD_ARGUMENT', `wakeUpProcess(${show(task)}): accepted a Task`);
    }
    return this.sched.wakeUp(task);
  }

  /** `schedule()`: yield it after `setCurrentState()` to sleep until `wakeUpProcess()`. */
  schedule(): Wait<void> {
    return new ScheduleWait();
  }

  /** `schedule_timeout(jiffies)` after `setCurrentState()`; evaluates to the jiffies left. */
  scheduleTimeout(jiffies: number): Wait<number> {
    checkNonNeg(jiffies, 'scheduleTimeout jiffies', true);
    return new ScheduleTimeoutWait(jiffies, false);
  }

  /** Sleep for `ns` nanoseconds on an hrtimer (`hrtimer_nanosleep()`/`usleep_range()`). */
  sleep(ns: number): Wait<void> {
    checkNonNeg(ns, 'sleep ns', false);
    return new SleepWait(ns);
  }

  /** `msleep(ms)`: sleeps `msecs_to_jiffies(ms) + 1` jiffies on the timer wheel. */
  msleep(ms: number): Wait<number> {
    checkNonNeg(ms, 'msleep ms', false);
    return new ScheduleTimeoutWait(msecsToJiffies(ms, this.hz) + 1, true);
  }

  /**
   * Burn `ns` of CPU time without sleeping (a long loop, a spinning wait).
   * Interrupts are taken meanwhile if enabled; under `preempt=full|rt` the
   * task may be preempted. `user` marks user-mode time for the tick hooks.
   */
  busy(ns: number, opts: { readonly user?: boolean } = {}): Wait<void> {
    checkNonNeg(ns, 'busy ns', false);
    return new BusyWait(ns, opts.user === true);
  }

  /** `cond_resched()`: a might-sleep check and a reschedule if one is due; evaluates to whether it switched. */
  condResched(site = 'kernel/sched/core.c'): Wait<boolean> {
    return new CondReschedWait(site);
  }

  /** `wait_event(wq, cond)`. */
  waitEvent(wq: WaitQueueHead, cond: () => boolean): Wait<void> {
    if (typeof cond !== 'function') {
      throw new MachineError(
        'BAD_ARGUMENT',
        `waitEvent condition ${show(cond)}: accepted a function`,
      );
    }
    return new WaitEventWait(wq, cond, -1) as Wait<void>;
  }

  /** `wait_event_timeout(wq, cond, jiffies)`: 0 on timeout, else the jiffies left (at least 1). */
  waitEventTimeout(wq: WaitQueueHead, cond: () => boolean, jiffies: number): Wait<number> {
    checkNonNeg(jiffies, 'waitEventTimeout jiffies', true);
    return new WaitEventWait(wq, cond, jiffies) as Wait<number>;
  }

  /**
   * Spin until `cond()` holds, re-checking with backoff (50 ns doubling to
   * 500 ns): the task stays on its CPU, as `cpu_relax()` loops do.
   */
  *spinUntil(cond: () => boolean): Generator<Wait<unknown>, void, unknown> {
    let pause = 50;
    while (!cond()) {
      yield new BusyWait(pause, false);
      if (pause < 500) pause *= 2;
    }
  }

  /** `kthread_should_stop()` for the current task. */
  kthreadShouldStop(): boolean {
    return this.current.shouldStop;
  }

  /** `kthread_stop()`: ask `task` to stop, wake it, wait for its exit; evaluates to its result. */
  *kthreadStop(task: Task): Generator<Wait<unknown>, unknown, unknown> {
    task.shouldStop = true;
    this.sched.wakeUp(task);
    yield task.exited.wait();
    return task.result;
  }

  /** Define per-task extension state (an added `task_struct` field). */
  defineTaskSlot<T>(init: (task: Task) => T): TaskSlot<T> {
    if (typeof init !== 'function') {
      throw new MachineError('BAD_ARGUMENT', `defineTaskSlot(${show(init)}): accepted a function`);
    }
    return new TaskSlot<T>(this.sched.slotCount++, init);
  }

  /** Subscribe to context switches; returns an unsubscribe function. */
  onContextSwitch(hook: ContextSwitchHook): () => void {
    return subscribe(this.sched.switchHooks, hook);
  }
  /** Subscribe to idle entry; returns an unsubscribe function. */
  onIdleEnter(hook: CpuHook): () => void {
    return subscribe(this.sched.idleEnterHooks, hook);
  }
  /** Subscribe to idle exit; returns an unsubscribe function. */
  onIdleExit(hook: CpuHook): () => void {
    return subscribe(this.sched.idleExitHooks, hook);
  }
  /** Subscribe to the scheduler tick (hardirq context); returns an unsubscribe function. */
  onTick(hook: TickHook): () => void {
    return subscribe(this.sched.tickHooks, hook);
  }
  /** Keep the tick running on an idle CPU while `fn(cpu)` is true (`rcu_needs_cpu()`-style veto). */
  setNeedsCpuProvider(fn: ((cpu: number) => boolean) | null): void {
    this.sched.needsCpu = fn;
  }

  // ==== diagnostics ===================================================================

  /** `printk()` at `level`; each line is stamped with the current CPU's time. */
  printk(level: LogLevel | number, text: string): void {
    this.log.append(this.clock[this.curCpu]!, this.curCpu, levelOf(level), String(text));
  }

  /** The log as `dmesg` prints it: `[%5lu.%06lu] text` lines. */
  dmesg(opts: DmesgOptions = {}): string {
    return this.log.format(opts);
  }

  /** The log records. */
  dmesgRecords(): readonly LogRecord[] {
    return this.log.records.slice();
  }

  /** Emit a diagnostic: log it and store its structured record. */
  report(input: ReportInput): ReportRecord {
    return this.reporter.report(input);
  }

  /** Emit a `WARN()`-style report ("------------[ cut here ]------------"), tainting 'W'. */
  warn(input: WarnInput): ReportRecord {
    return this.reporter.warn(input);
  }

  /** Stored reports, optionally of one kind. */
  reports(filter: ReportFilter = {}): readonly ReportRecord[] {
    return this.reporter.filter(filter);
  }

  /** `add_taint()`. */
  addTaint(flag: TaintFlag): void {
    this.taint.add(flag);
  }

  /** `print_tainted()`: "Not tainted" or "Tainted: G        W   …". */
  tainted(): string {
    return this.taint.compact();
  }

  /** `print_kernel_ident()`: "<release> #1 <taint>". */
  kernelIdent(): string {
    return `${this.config.kernelRelease} #1 ${this.taint.compact()}`;
  }

  /** `preempt_model_str()`: "PREEMPT(none)", "PREEMPT(voluntary)", "PREEMPT(full)" or "PREEMPT_RT". */
  preemptModelStr(): string {
    return this.rt ? 'PREEMPT_RT' : `PREEMPT(${this.preemptModel})`;
  }

  /** Register the held-locks formatter (lockdep). */
  setHeldLocksProvider(fn: HeldLocksProvider | null): void {
    this.reporter.heldLocks = fn;
  }

  /** Register `rcu_preempt_depth()` (preemptible RCU); adds the "RCU nest depth" line. */
  setRcuNestDepthProvider(fn: RcuNestDepthProvider | null): void {
    this.reporter.rcuNestDepth = fn;
  }

  /** `might_sleep()`: report sleeping in atomic context (rate-limited to once per HZ). */
  mightSleep(site: string): void {
    this.checks.mightSleep(site);
  }

  /**
   * `schedule_debug()` for a primitive whose sleep the simulation charges as
   * waiting time instead of switching tasks (a contended PREEMPT_RT rtmutex
   * in `rtlock_slowlock()`): reports "BUG: scheduling while atomic" when the
   * current context is atomic and returns whether it did. The kernel then
   * resets the preempt count; the simulation keeps it so the interrupted
   * contexts unwind normally. `frames` are the call-trace entries above the
   * caller, innermost first (default `__schedule_bug`, `__schedule`, `schedule`).
   */
  scheduleDebug(frames: readonly string[] = SCHEDULE_FRAMES): boolean {
    return this.sched.scheduleDebug(this.curCpu, frames);
  }

  /** `__might_resched(site, offsets)` with expected preempt count and RCU nesting; true if it reported. */
  mightResched(site: string, preemptOffset = 0, rcuOffset = 0): boolean {
    return this.checks.mightResched(site, preemptOffset, rcuOffset);
  }

  /** Intern a function name for `fnEnter()`. */
  fnId(name: string): number {
    return this.chain.id(name);
  }

  /** Push a frame on the current CPU's simulated call chain. */
  fnEnter(id: number): void {
    this.chain.enter(this.curCpu, id);
  }

  /** Pop the innermost frame. */
  fnExit(): void {
    this.chain.exit(this.curCpu);
  }

  /** The simulated call chain of the current CPU, innermost first. */
  callChain(): string[] {
    return this.chain.names_(this.curCpu);
  }

  /** The innermost simulated function ('' if none), for "at: %pS". */
  callSite(): string {
    const id = this.chain.top(this.curCpu);
    return id > 3 ? this.chain.name(id) : '';
  }

  /** @internal `print_ip_sym()` of a simulated function id */
  ipSym(fnId: number): string {
    if (fnId <= 3) return '[<0000000000000000>] 0x0';
    // A stable pseudo text address per simulated function, in the kernel's text range.
    const low = (0x81000000 + fnId * 0x40).toString(16).padStart(8, '0');
    return `[<ffffffff${low}>] ${this.chain.name(fnId)}`;
  }

  // ==== interrupts ===================================================================

  /** `request_irq()`: register a handler; returns the irq number. */
  requestIrq(name: string, handler: IrqHandler, flags = 0): number {
    return this.irq.request(name, handler, flags);
  }

  /** Raise `irq` on CPU `cpu`: taken as soon as that CPU has irqs enabled. */
  raiseIrq(cpu: number, irq: number): void {
    this.checkCpu(cpu, 'raiseIrq');
    this.irq.check(irq);
    this.irq.raise(cpu, irq);
  }

  /** Times `irq` was taken on `cpu` (or on all CPUs). */
  irqCount(irq: number, cpu?: number): number {
    const d = this.irq.check(irq);
    if (cpu === undefined) return d.counts.reduce((a, b) => a + b, 0);
    this.checkCpu(cpu, 'irqCount');
    return d.counts[cpu]!;
  }

  /** Irq number of the local timer interrupt (LOC). */
  get localTimerIrq(): number {
    return this.irq.localTimerIrq;
  }

  /** `open_softirq()`. */
  openSoftirq(nr: number, handler: SoftirqHandler): void {
    this.softirq.open(nr, handler);
  }

  /** `raise_softirq()` on the current CPU. */
  raiseSoftirq(nr: number): void {
    this.softirq.checkNr(nr);
    this.softirq.raise(nr);
  }

  /** `raise_softirq_irqoff()` (caller has irqs disabled). */
  raiseSoftirqIrqoff(nr: number): void {
    this.softirq.checkNr(nr);
    this.softirq.raiseIrqoff(nr);
  }

  /** `local_softirq_pending()` of CPU `cpu` (default: current). */
  softirqPending(cpu = this.curCpu): number {
    this.checkCpu(cpu, 'softirqPending');
    return this.softirq.pending[cpu]!;
  }

  /** Raise an NMI on `cpu`: taken at the next probe point if that CPU is executing, else at once. */
  raiseNmi(cpu: number, handler: NmiHandler): void {
    this.checkCpu(cpu, 'raiseNmi');
    if (typeof handler !== 'function') {
      throw new MachineError(
        'BAD_ARGUMENT',
        `raiseNmi handler ${show(handler)}: accepted a function`,
      );
    }
    this.nmi.raise(cpu, handler);
  }

  /** `irq_work_queue()`: NMI-safe; false if the work was already pending. */
  irqWorkQueue(work: IrqWork): boolean {
    return this.irqWork.queue(work, this.curCpu);
  }

  /** `irq_work_queue_on()`. */
  irqWorkQueueOn(work: IrqWork, cpu: number): boolean {
    this.checkCpu(cpu, 'irqWorkQueueOn');
    return this.irqWork.queue(work, cpu);
  }

  /** `irq_work_sync()`: spin until the work is neither pending nor running. */
  *irqWorkSync(work: IrqWork): Generator<Wait<unknown>, void, unknown> {
    yield* this.spinUntil(() => !work.pending && !work.busy);
  }

  /** `smp_call_function_single(cpu, fn, 0)`: run `fn` on `cpu` from an IPI (here, with irqs off). */
  smpCallFunctionSingle(cpu: number, fn: SmpCallFn): void {
    this.checkCpu(cpu, 'smpCallFunctionSingle');
    this.smp.call(cpu, fn);
  }

  /** `smp_call_function_single(cpu, fn, 1)`: the same, spinning until it ran. */
  *smpCallFunctionSingleSync(cpu: number, fn: SmpCallFn): Generator<Wait<unknown>, void, unknown> {
    this.checkCpu(cpu, 'smpCallFunctionSingleSync');
    this.preemptDisable();
    const csd = this.smp.call(cpu, fn);
    yield* this.smp.waitAll([csd]);
    this.preemptEnable();
  }

  /** `on_each_cpu(fn, 0)`. */
  onEachCpu(fn: SmpCallFn): void {
    this.smp.callAll(fn);
  }

  /** `on_each_cpu(fn, 1)`. */
  *onEachCpuSync(fn: SmpCallFn): Generator<Wait<unknown>, void, unknown> {
    this.preemptDisable();
    const csds = this.smp.callAll(fn);
    yield* this.smp.waitAll(csds);
    this.preemptEnable();
  }

  // ==== timers ==========================================================================

  /** `add_timer()`: arm a non-pending timer at `timer.expires` on this CPU. */
  addTimer(timer: TimerList): void {
    if (this.timers.pending(timer)) {
      this.warn({
        kind: 'timer-misuse',
        site: 'kernel/time/timer.c',
        fn: 'add_timer',
        message: 'WARNING: add_timer() of a pending timer',
      });
      return;
    }
    this.timers.enqueue(timer, this.curCpu);
  }

  /** `add_timer_on()`. */
  addTimerOn(timer: TimerList, cpu: number): void {
    this.checkCpu(cpu, 'addTimerOn');
    if (this.timers.pending(timer)) {
      this.warn({
        kind: 'timer-misuse',
        site: 'kernel/time/timer.c',
        fn: 'add_timer_on',
        message: 'WARNING: add_timer_on() of a pending timer',
      });
      return;
    }
    this.timers.enqueue(timer, cpu);
  }

  /** `mod_timer()`: (re)arm at `expires` jiffies on this CPU; true if it was pending. */
  modTimer(timer: TimerList, expires: number): boolean {
    checkNonNeg(expires, 'modTimer expires', true);
    if (this.timers.pending(timer) && timer.expires === expires && timer.cpu === this.curCpu)
      return true;
    return this.timers.mod(timer, expires, this.curCpu);
  }

  /** `timer_delete()` (`del_timer()`): true if it was pending. */
  timerDelete(timer: TimerList): boolean {
    return this.timers.del(timer);
  }

  /** `timer_delete_sync()`: like `timerDelete()`, checking for the kernel's misuse cases. */
  timerDeleteSync(timer: TimerList): boolean {
    if (this.ctx.inHardirq() && (timer.flags & TIMER_IRQSAFE) === 0) {
      this.warn({
        kind: 'timer-misuse',
        site: 'kernel/time/timer.c',
        fn: '__timer_delete_sync',
        message: 'WARN_ON(in_hardirq() && !(timer->flags & TIMER_IRQSAFE))',
      });
    }
    if (this.timers.isRunning(timer, this.curCpu)) {
      this.warn({
        kind: 'timer-misuse',
        site: 'kernel/time/timer.c',
        fn: '__timer_delete_sync',
        message: "timer_delete_sync() called from the timer's own callback",
      });
    }
    return this.timers.del(timer);
  }

  /** `timer_pending()`. */
  timerPending(timer: TimerList): boolean {
    return this.timers.pending(timer);
  }

  /** `hrtimer_start()`: at absolute ns, or relative with `HRTIMER_MODE_REL`. */
  hrtimerStart(timer: Hrtimer, time: number, mode = timer.mode): void {
    if (typeof time !== 'number' || Number.isNaN(time)) {
      throw new MachineError('BAD_ARGUMENT', `hrtimerStart time ${show(time)}: accepted ns`);
    }
    const at = (mode & HRTIMER_MODE_REL) !== 0 ? this.now() + time : time;
    this.hrtimers.start(timer, Math.max(0, at), this.curCpu);
  }

  /** `hrtimer_cancel()` / `hrtimer_try_to_cancel()`: true if it was armed. */
  hrtimerCancel(timer: Hrtimer): boolean {
    return this.hrtimers.cancel(timer);
  }

  /** `hrtimer_active()`. */
  hrtimerActive(timer: Hrtimer): boolean {
    return this.hrtimers.active(timer);
  }

  /** `hrtimer_forward_now()`. */
  hrtimerForwardNow(timer: Hrtimer, interval: number): number {
    return timer.forward(this.now(), interval);
  }

  // ==== workqueues ====================================================================

  /** `queue_work_on(cpu, system_wq, work)` (default: this CPU); false if already pending. */
  queueWork(work: Work, cpu = this.curCpu): boolean {
    this.checkCpu(cpu, 'queueWork');
    return this.wq.queue(work, cpu);
  }

  /** `queue_delayed_work_on()`: queue after `delay` jiffies; false if already pending. */
  queueDelayedWork(dwork: DelayedWork, delay: number, cpu?: number): boolean {
    checkNonNeg(delay, 'queueDelayedWork delay', true);
    if (cpu !== undefined) this.checkCpu(cpu, 'queueDelayedWork');
    const w = dwork.work;
    if (w.pending) return false;
    w.pending = true;
    this.armDelayed(dwork, delay, cpu);
    return true;
  }

  /** `mod_delayed_work_on()`: (re)queue after `delay`; true if it was pending before. */
  modDelayedWork(dwork: DelayedWork, delay: number, cpu?: number): boolean {
    checkNonNeg(delay, 'modDelayedWork delay', true);
    if (cpu !== undefined) this.checkCpu(cpu, 'modDelayedWork');
    const was = this.wq.grabPending(dwork.work);
    dwork.work.pending = true;
    this.armDelayed(dwork, delay, cpu);
    return was;
  }

  private armDelayed(dwork: DelayedWork, delay: number, cpu: number | undefined): void {
    dwork.m = this;
    dwork.cpu = cpu ?? -1;
    if (delay === 0) {
      this.wq.insert(dwork.work, cpu ?? this.curCpu);
      return;
    }
    dwork.timer.expires = this.jiffies + delay;
    this.timers.enqueue(dwork.timer, cpu ?? this.curCpu);
  }

  /** `cancel_delayed_work()`: un-arm or un-queue; true if it was pending. Does not wait. */
  cancelDelayedWork(dwork: DelayedWork): boolean {
    return this.wq.grabPending(dwork.work);
  }

  /** `cancel_work()`: un-queue; true if it was pending. Does not wait. */
  cancelWork(work: Work): boolean {
    return this.wq.grabPending(work);
  }

  /** `flush_work()`: wait for the queued or running instance; evaluates to whether it waited. */
  flushWork(work: Work): Generator<Wait<unknown>, boolean, unknown> {
    return this.wq.flush(work);
  }

  /** `flush_delayed_work()`: queue it now if its timer is armed, then flush. */
  flushDelayedWork(dwork: DelayedWork): Generator<Wait<unknown>, boolean, unknown> {
    return this.wq.flush(dwork.work);
  }

  /** `cancel_work_sync()`. */
  cancelWorkSync(work: Work): Generator<Wait<unknown>, boolean, unknown> {
    return this.wq.cancelSync(work);
  }

  /** `cancel_delayed_work_sync()`. */
  cancelDelayedWorkSync(dwork: DelayedWork): Generator<Wait<unknown>, boolean, unknown> {
    return this.wq.cancelSync(dwork.work);
  }

  // ==== per-CPU data ==================================================================

  /** `DEFINE_PER_CPU`: one value per CPU from `init(cpu)`. */
  definePerCpu<T>(init: (cpu: number) => T): PerCpu<T> {
    if (typeof init !== 'function') {
      throw new MachineError('BAD_ARGUMENT', `definePerCpu(${show(init)}): accepted a function`);
    }
    return new PerCpu<T>(this, init);
  }

  // ==== probes and injection ==========================================================

  /** Define (or look up) a probe point; returns its id for `probe()`. */
  defineProbe(name: string): number {
    return this.probes.define(name);
  }

  /**
   * A probe point: costs one typed-array check when nothing is attached and
   * nothing is pending; otherwise takes pending NMIs (and hardirqs if irqs
   * are on) and runs the attached injections.
   */
  probe(id: number): void {
    if (this.probeGate !== 0) this.probeSlow(id);
  }

  /** @internal an NMI or hardirq line became pending on CPU `c` */
  attnRaise(c: number): void {
    this.attn[c] = this.attn[c]! + 1;
    this.probeGate++;
  }

  /** @internal CPU `c` takes one of its pending NMIs or hardirq lines */
  attnTake(c: number): void {
    this.attn[c] = this.attn[c]! - 1;
    this.probeGate--;
  }

  /** @internal remove an attached injection from its probe */
  detachInjection(id: number, inj: Injection): void {
    this.probes.detach(id, inj);
    this.probeGate--;
  }

  private probeSlow(id: number): void {
    const c = this.curCpu;
    if ((this.probes.attached[id]! | this.attn[c]!) === 0) return;
    if (this.attn[c] !== 0) this.deliverInterrupts(c);
    if (this.probes.attached[id] === 1) {
      const list = this.probes.hits[id]!;
      if (list.length === 1) list[0]!.hit(c);
      else for (const inj of list.slice()) inj.hit(c);
    }
  }

  /** Inject an NMI running `handler` when `probeName` is hit per `trigger`. */
  injectNmi(probeName: string, trigger: InjectionTrigger, handler: InjectionHandler): Injection {
    return this.attach('nmi', probeName, trigger, handler);
  }

  /** Run `handler` in the probed context (like a BPF program on a tracepoint) per `trigger`. */
  attachProgram(
    probeName: string,
    trigger: InjectionTrigger,
    handler: InjectionHandler,
  ): Injection {
    return this.attach('program', probeName, trigger, handler);
  }

  private attach(
    kind: InjectionKind,
    probeName: string,
    trigger: InjectionTrigger,
    handler: InjectionHandler,
  ): Injection {
    checkTrigger(trigger);
    if (typeof handler !== 'function') {
      throw new MachineError(
        'BAD_ARGUMENT',
        `injection handler ${show(handler)}: accepted a function`,
      );
    }
    const id = this.probes.define(probeName);
    const serial = this.injections++;
    const rng = 'rate' in trigger ? this.rngs.get(`inject/${kind}/${probeName}/${serial}`) : null;
    const inj = new Injection(this, kind, probeName, id, trigger, handler, rng);
    this.probes.attach(id, inj);
    this.probeGate++;
    return inj;
  }

  // ==== memory ========================================================================

  /** Physical memory (`memBytes` of sparse 64-bit words). */
  get memory(): PhysicalMemory {
    if (this.memoryImpl === null) this.memoryImpl = new PhysicalMemory(this.config.memBytes);
    return this.memoryImpl;
  }

  /** The cache model (created on first use). */
  get cache(): CacheModel {
    if (this.cacheImpl === null) this.cacheImpl = new CacheModel(this.nrCpus, this.config.cache);
    return this.cacheImpl;
  }

  /** Intern a cache-site label. */
  siteId(label: string): number {
    return this.cache.siteId(label);
  }

  /** `READ_ONCE()` of the word at `addr`, charging the cache latency. */
  load(addr: number, site = 0): number {
    const c = this.curCpu;
    const v = (this.memoryImpl ?? this.memory).read(addr);
    const cache = this.cacheImpl ?? this.cache;
    this.clock[c]! += cache.access(c, addr, false, site);
    return v;
  }

  /** `WRITE_ONCE()` of the word at `addr`, charging the cache latency. */
  store(addr: number, value: number, site = 0): void {
    const c = this.curCpu;
    const mem = this.memoryImpl ?? this.memory;
    const cache = this.cacheImpl ?? this.cache;
    mem.write(addr, value);
    this.clock[c]! += cache.access(c, addr, true, site);
  }

  /** `cmpxchg()`: store `next` if the word equals `old`; returns the previous value. */
  cmpxchg(addr: number, old: number, next: number, site = 0): number {
    const c = this.curCpu;
    const mem = this.memoryImpl ?? this.memory;
    const cache = this.cacheImpl ?? this.cache;
    const cur = mem.read(addr);
    if (cur === old) mem.write(addr, next);
    this.clock[c]! += cache.access(c, addr, true, site) + this.costs.atomicRmw;
    return cur;
  }

  /** `xchg()`: store `value`, return the previous one. */
  xchg(addr: number, value: number, site = 0): number {
    const c = this.curCpu;
    const mem = this.memoryImpl ?? this.memory;
    const cache = this.cacheImpl ?? this.cache;
    const cur = mem.read(addr);
    mem.write(addr, value);
    this.clock[c]! += cache.access(c, addr, true, site) + this.costs.atomicRmw;
    return cur;
  }

  /** `atomic_long_fetch_add()`: add `delta` (result must stay a valid word), return the previous value. */
  fetchAdd(addr: number, delta: number, site = 0): number {
    const c = this.curCpu;
    const mem = this.memoryImpl ?? this.memory;
    const cache = this.cacheImpl ?? this.cache;
    const cur = mem.read(addr);
    mem.write(addr, cur + delta);
    this.clock[c]! += cache.access(c, addr, true, site) + this.costs.atomicRmw;
    return cur;
  }

  // ==== trace =========================================================================

  /** Record an instant event on the current CPU's track. */
  traceInstant(name: string, args?: Readonly<Record<string, unknown>>): void {
    if (this.tracing) this.tracer.instant(this.curCpu, this.clock[this.curCpu]!, name, args);
  }

  /** Record a counter sample. */
  traceCounter(name: string, value: number): void {
    if (this.tracing) this.tracer.counter(this.clock[this.curCpu]!, name, value);
  }

  /** Begin an async span (e.g. a grace period) identified by `id`. */
  traceAsyncBegin(name: string, id: number | string, category = 'async'): void {
    if (this.tracing) this.tracer.asyncBegin(this.clock[this.curCpu]!, name, id, category);
  }

  /** End an async span. */
  traceAsyncEnd(name: string, id: number | string, category = 'async'): void {
    if (this.tracing) this.tracer.asyncEnd(this.clock[this.curCpu]!, name, id, category);
  }

  /** The trace as Chrome trace-event JSON (empty of events when tracing is off). */
  exportChromeTrace(): string {
    return this.tracer.export(this.clock);
  }
}

function subscribe<T>(list: T[], hook: T): () => void {
  if (typeof hook !== 'function') {
    throw new MachineError('BAD_ARGUMENT', `hook ${show(hook)}: accepted a function`);
  }
  list.push(hook);
  return () => {
    const i = list.indexOf(hook);
    if (i >= 0) list.splice(i, 1);
  };
}

function checkNonNeg(v: number, what: string, integer: boolean): void {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (integer && !Number.isInteger(v))) {
    throw new MachineError(
      'BAD_ARGUMENT',
      `${what} = ${show(v)} is invalid: accepted ${integer ? 'an integer' : 'a finite number'} >= 0`,
    );
  }
}

/**
 * Build a machine from a configuration (validated first: a bad field throws
 * `MachineConfigError` before anything is built).
 * @public
 */
export function createMachine(config: MachineConfig = {}): Machine {
  return new Machine(resolveMachineConfig(config));
}

/** The argument check of `preemptCountAdd()`/`preemptCountSub()`. */
function badPreemptVal(fn: string, val: unknown): never {
  throw new MachineError(
    'BAD_ARGUMENT',
    `${fn}(${show(val)}): accepted an integer from 1 to ${PREEMPT_MASK}`,
  );
}
