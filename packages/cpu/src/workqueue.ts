import { MachineError, show } from './errors.js';
import type { Machine } from './machine.js';
import type { Task } from './task.js';
import { TASK_INTERRUPTIBLE } from './task-state.js';
import { TimerList } from './timer.js';
import { type Wait, WaitQueueHead } from './wait.js';

/**
 * A work function: a plain function (atomic work) or a generator function
 * (work that may sleep by yielding waits).
 * @public
 */
export type WorkFn = (work: Work) => void | Generator<Wait<unknown>, void, unknown>;

/**
 * `struct work_struct`, initialised like `INIT_WORK(work, fn)`.
 * @public
 */
export class Work {
  readonly fn: WorkFn;
  /** Name shown in "Workqueue: events <name>" lines (the function's name). */
  readonly name: string;
  /** Queued or its timer armed (`WORK_STRUCT_PENDING`). */
  pending = false;
  /** @internal worker executing it */
  running: Task | null = null;
  /** @internal pool it is queued on */
  pool: WorkerPool | null = null;
  /** @internal */
  queuedGen = 0;
  /** @internal */
  runningGen = 0;
  /** @internal */
  doneGen = 0;
  /** @internal */
  flushWq: WaitQueueHead | null = null;
  /** @internal the delayed work this is embedded in */
  dwork: DelayedWork | null = null;
  /** @internal interned name for the call chain */
  fnId = 0;

  constructor(fn: WorkFn, name?: string) {
    if (typeof fn !== 'function') {
      throw new MachineError('BAD_ARGUMENT', `Work function ${show(fn)}: accepted a function`);
    }
    this.fn = fn;
    this.name = name ?? (fn.name || 'work_fn');
  }
}

/**
 * `struct delayed_work`: a work item plus the timer that queues it,
 * initialised like `INIT_DELAYED_WORK(dwork, fn)`.
 * @public
 */
export class DelayedWork {
  readonly work: Work;
  /** @internal */
  readonly timer: TimerList;
  /** @internal CPU to queue on when the timer fires (-1: the timer's CPU) */
  cpu = -1;
  /** @internal */
  m: Machine | null = null;

  constructor(fn: WorkFn, name?: string) {
    this.work = new Work(fn, name);
    this.work.dwork = this;
    this.timer = new TimerList(delayedWorkTimerFn(this));
  }

  /** @internal */
  fire(): void {
    const m = this.m!;
    const cpu = this.cpu >= 0 ? this.cpu : m.curCpu;
    m.wq.insert(this.work, cpu);
  }
}

function delayedWorkTimerFn(d: DelayedWork) {
  return function delayed_work_timer_fn(_t: TimerList): void {
    d.fire();
  };
}

/** Workqueue bookkeeping of a worker task. @internal */
export interface WorkerState {
  readonly pool: WorkerPool;
  idle: boolean;
  sleeping: boolean;
  current: Work | null;
}

/** A per-CPU worker pool of the system workqueue (`struct worker_pool`). @internal */
export class WorkerPool {
  readonly cpu: number;
  readonly worklist: Work[] = [];
  readonly workers: Task[] = [];
  readonly idle: Task[] = [];
  nrRunning = 0;

  constructor(cpu: number) {
    this.cpu = cpu;
  }

  take(): Work | null {
    const l = this.worklist;
    for (let i = 0; i < l.length; i++) {
      const w = l[i]!;
      if (w.running === null) {
        l.splice(i, 1);
        return w;
      }
    }
    return null;
  }
}

/**
 * The system workqueue (`system_wq`, kernel/workqueue.c) served by per-CPU
 * kworker/N:M tasks, with the pool's concurrency management: when the running
 * worker sleeps with work pending, another worker is woken or created.
 * @internal
 */
export class Workqueues {
  readonly pools: WorkerPool[] = [];
  readonly m: Machine;

  private readonly processFnId: number;

  constructor(m: Machine, nrCpus: number) {
    this.m = m;
    for (let c = 0; c < nrCpus; c++) this.pools.push(new WorkerPool(c));
    this.processFnId = m.chain.id('process_one_work');
  }

  /** `queue_work_on()`: false if already pending. */
  queue(work: Work, cpu: number): boolean {
    if (work.pending) return false;
    work.pending = true;
    this.insert(work, cpu);
    return true;
  }

  /** Put a pending work on CPU `cpu`'s worklist and make sure a worker runs. */
  insert(work: Work, cpu: number): void {
    const pool = this.pools[cpu]!;
    work.pool = pool;
    work.queuedGen++;
    pool.worklist.push(work);
    if (pool.nrRunning === 0) this.kick(pool);
  }

  private kick(pool: WorkerPool): void {
    const m = this.m;
    const t = pool.idle.shift();
    if (t !== undefined) {
      t.worker!.idle = false;
      pool.nrRunning++;
      m.sched.wakeUp(t);
      return;
    }
    const id = pool.workers.length;
    const wt = m.sched.spawn(workerBody(this, pool), {
      comm: `kworker/${pool.cpu}:${id}`,
      kthread: true,
      affinity: [pool.cpu],
    });
    wt.worker = { pool, idle: false, sleeping: false, current: null };
    pool.workers.push(wt);
    pool.nrRunning++;
  }

  /** `wq_worker_sleeping()`: a busy worker blocked. */
  workerSleeping(t: Task): void {
    const w = t.worker!;
    if (w.idle || w.sleeping) return;
    w.sleeping = true;
    const pool = w.pool;
    pool.nrRunning--;
    if (pool.nrRunning === 0 && pool.worklist.some((x) => x.running === null)) this.kick(pool);
  }

  /** `wq_worker_running()`: a blocked worker woke up. */
  workerWaking(t: Task): void {
    const w = t.worker!;
    if (!w.sleeping) return;
    w.sleeping = false;
    w.pool.nrRunning++;
  }

  currentWorkName(t: Task): string | null {
    return t.worker?.current?.name ?? null;
  }

  /** Remove a pending work from its worklist or timer; true if it was pending. */
  grabPending(work: Work): boolean {
    if (!work.pending) return false;
    const d = work.dwork;
    if (d !== null && this.m.timers.del(d.timer)) {
      work.pending = false;
      return true;
    }
    const pool = work.pool;
    if (pool !== null) {
      const i = pool.worklist.indexOf(work);
      if (i >= 0) pool.worklist.splice(i, 1);
    }
    work.pending = false;
    return true;
  }

  flushWq(work: Work): WaitQueueHead {
    if (work.flushWq === null) work.flushWq = new WaitQueueHead(this.m);
    return work.flushWq;
  }

  /** `__flush_work()`: wait until the instance queued or running now has finished. */
  *flush(work: Work): Generator<Wait<unknown>, boolean, unknown> {
    const m = this.m;
    m.mightSleep('kernel/workqueue.c');
    let target: number;
    if (work.pending) target = work.queuedGen;
    else if (work.running !== null) target = work.runningGen;
    else return false;
    if (work.dwork !== null && m.timers.pending(work.dwork.timer)) {
      // flush_delayed_work(): queue it now rather than wait for the timer.
      m.timers.del(work.dwork.timer);
      this.insert(work, m.curCpu);
      target = work.queuedGen;
    }
    yield m.waitEvent(this.flushWq(work), () => work.doneGen >= target);
    return true;
  }

  /** `cancel_work_sync()`: un-queue, then wait for a running instance. */
  *cancelSync(work: Work): Generator<Wait<unknown>, boolean, unknown> {
    const m = this.m;
    m.mightSleep('kernel/workqueue.c');
    const was = this.grabPending(work);
    if (work.running !== null && work.running !== m.current) {
      yield m.waitEvent(this.flushWq(work), () => work.running === null);
    }
    return was;
  }

  /** Execute one work item in worker `self` (`process_one_work()`). */
  *process(self: Task, work: Work): Generator<Wait<unknown>, void, unknown> {
    const m = this.m;
    const w = self.worker!;
    work.pending = false;
    work.running = self;
    work.runningGen = work.queuedGen;
    const gen = work.runningGen;
    w.current = work;
    const c = m.curCpu;
    if (work.fnId === 0) work.fnId = m.chain.id(work.name);
    m.chain.enter(c, this.processFnId);
    m.chain.enter(c, work.fnId);
    try {
      const r = work.fn(work);
      if (r !== undefined && r !== null && typeof (r as Generator).next === 'function') {
        yield* r as Generator<Wait<unknown>, void, unknown>;
      }
    } finally {
      m.chain.exit(m.curCpu);
      m.chain.exit(m.curCpu);
      w.current = null;
      work.running = null;
      if (gen > work.doneGen) work.doneGen = gen;
      if (work.flushWq !== null) work.flushWq.wakeUp();
    }
  }
}

/** worker_thread(): take work from the pool, else go idle. */
function workerBody(wq: Workqueues, pool: WorkerPool) {
  return function* worker_thread(self: Task) {
    const m = wq.m;
    for (;;) {
      const work = pool.take();
      if (work === null) {
        const w = self.worker!;
        w.idle = true;
        pool.nrRunning--;
        pool.idle.push(self);
        self.state = TASK_INTERRUPTIBLE;
        yield m.schedule();
        continue;
      }
      yield* wq.process(self, work);
      yield m.condResched('kernel/workqueue.c');
    }
  };
}
