import { MemallocScope } from '@sim/gfp';
import type { Hrtimer } from './hrtimer.js';
import type { Machine } from './machine.js';
import { TASK_COMM_MAX, TASK_DEAD, TASK_RUNNING } from './task-state.js';
import type { TimerList } from './timer.js';
import { Completion, type Wait } from './wait.js';
import type { WorkerState } from './workqueue.js';

/**
 * What a task runs: usually a generator function, whose code between yields
 * runs atomically on its CPU and whose each `yield` hands the scheduler a
 * wait (sleep, completion, wait event, busy time, cond_resched…); compose
 * with `yield*`. A plain function is a task that never sleeps. The return
 * value becomes `task.result`.
 * @public
 */
export type TaskBody = (self: Task) => Generator<Wait<unknown>, unknown, unknown> | unknown;

/** Options of `machine.spawn()`. @public */
export interface SpawnOptions {
  /** Command name (truncated to 15 characters, as `task->comm`). Default 'task'. */
  readonly comm?: string;
  /** CPU to start on. Default: the least loaded CPU allowed by `affinity`. */
  readonly cpu?: number;
  /** CPUs the task may run on (`cpus_allowed`). Default: all. */
  readonly affinity?: readonly number[];
  /** Kernel priority: 0-99 real-time (SCHED_FIFO, lower is more urgent), 100-139 normal. Default 120. */
  readonly prio?: number;
  /** A kernel thread (`PF_KTHREAD`). Default false. */
  readonly kthread?: boolean;
}

/**
 * A simulated task (`struct task_struct`), created by `machine.spawn()`.
 * @public
 */
export class Task {
  /** Process id (0 for the idle tasks). */
  readonly pid: number;
  /** Command name. */
  readonly comm: string;
  /** CPU the task runs on, or last ran / is queued on. */
  cpu: number;
  /** Kernel priority (lower is more urgent); change it with `machine.setTaskPrio()`. */
  prio: number;
  /** `TASK_RUNNING`, `TASK_INTERRUPTIBLE`, `TASK_UNINTERRUPTIBLE` or `TASK_DEAD`. */
  state: number;
  /** Whether this is a kernel thread. */
  readonly kthread: boolean;
  /** Allowed CPUs, or null for all. */
  readonly affinity: readonly number[] | null;
  /** Completed when the task exits (`vfork_done`-like), for `yield task.exited.wait()`. */
  readonly exited: Completion;
  /** Value returned by the task body once it exited. */
  result: unknown = undefined;
  /** Voluntary and involuntary context switches (`nvcsw`, `nivcsw`). */
  nvcsw = 0;
  nivcsw = 0;
  /** Virtual ns spent running (`se.sum_exec_runtime`). */
  sumExecNs = 0;
  /** The task's `PF_MEMALLOC*` scope flags (`current->flags`), with `memalloc_*_save()`/`restore()`. */
  readonly memalloc: MemallocScope = new MemallocScope();

  /** @internal */
  gen: Generator<Wait<unknown>, unknown, unknown> | null = null;
  /** @internal the body, until it is started */
  body: TaskBody | null;
  /** @internal */
  resumeValue: unknown = undefined;
  /** @internal the blocking wait the task sleeps in, rechecked on wakeup */
  wait: Wait<unknown> | null = null;
  /** @internal busy time left to burn before the body resumes */
  busyRemaining = 0;
  /** @internal busy time is user-mode time */
  busyUser = false;
  /** @internal */
  onRq = false;
  /** @internal run-queue ordering key within a priority */
  rqSeq = 0;
  /** @internal per-task extension slots (see TaskSlot) */
  slots: unknown[] = [];
  /** @internal `migration_disabled` */
  migrationDisabled = 0;
  /** @internal PREEMPT_RT `softirq_disable_cnt` */
  softirqCnt = 0;
  /** @internal saved simulated call chain (a reused buffer) */
  frames: Int32Array | null = null;
  /** @internal number of saved frames in `frames` */
  nrFrames = 0;
  /** @internal virtual time it last stopped running */
  lastRanAt = 0;
  /** @internal */
  readonly isIdle: boolean;
  /** @internal `kthread_should_stop()` */
  shouldStop = false;
  /** @internal per-CPU kthread (PF_NO_SETAFFINITY with one allowed CPU) */
  readonly percpuThread: boolean;
  /** @internal allowed-CPU bitmap */
  readonly allowed: Uint8Array | null;
  /** @internal */
  timeoutTimer: TimerList | null = null;
  /** @internal */
  sleepTimer: Hrtimer | null = null;
  /** @internal the last timeout or sleep timer fired */
  timedOut = false;
  /** @internal jiffy at which the current timeout expires */
  timeoutDeadline = 0;
  /** @internal set when the task is a workqueue worker */
  worker: WorkerState | null = null;
  /** @internal when the current run on a CPU started */
  runStart = 0;

  /** @internal */
  constructor(
    m: Machine,
    pid: number,
    comm: string,
    body: TaskBody | null,
    opts: {
      cpu: number;
      prio: number;
      kthread: boolean;
      affinity: readonly number[] | null;
      idle: boolean;
      nrCpus: number;
    },
  ) {
    this.pid = pid;
    this.comm = comm.slice(0, TASK_COMM_MAX);
    this.cpu = opts.cpu;
    this.prio = opts.prio;
    this.state = TASK_RUNNING;
    this.kthread = opts.kthread;
    this.affinity = opts.affinity === null ? null : Object.freeze([...opts.affinity]);
    this.isIdle = opts.idle;
    if (opts.affinity === null) {
      this.allowed = null;
    } else {
      this.allowed = new Uint8Array(opts.nrCpus);
      for (const c of opts.affinity) this.allowed[c] = 1;
    }
    this.percpuThread = opts.kthread && opts.affinity !== null && opts.affinity.length === 1;
    this.exited = new Completion(m);
    this.body = body;
  }

  /** True once the task exited. */
  get dead(): boolean {
    return this.state === TASK_DEAD;
  }

  /** May the task run on `cpu`? */
  canRunOn(cpu: number): boolean {
    return this.allowed === null || this.allowed[cpu] === 1;
  }

  /** @internal */
  toString(): string {
    return `${this.comm}/${this.pid}`;
  }
}

/**
 * Per-task extension state defined by another subsystem (lockdep's held-lock
 * stack, RCU's read-side nesting…), stored at a fixed index in every task,
 * like a field added to `struct task_struct`. Obtain with
 * `machine.defineTaskSlot(init)`; the value is created lazily per task.
 * @public
 */
export class TaskSlot<T> {
  /** Index of the slot in every task. */
  readonly index: number;
  private readonly init: (task: Task) => T;

  /** @internal */
  constructor(index: number, init: (task: Task) => T) {
    this.index = index;
    this.init = init;
  }

  /** The slot's value for `task`, created by `init` on first use. */
  get(task: Task): T {
    const slots = task.slots;
    const i = this.index;
    let v = slots[i];
    if (v === undefined) {
      v = this.init(task);
      while (slots.length < i) slots.push(undefined);
      slots[i] = v;
    }
    return v as T;
  }

  /** Replace the slot's value for `task`. */
  set(task: Task, value: T): void {
    const slots = task.slots;
    while (slots.length < this.index) slots.push(undefined);
    slots[this.index] = value;
  }
}
