import type { Machine } from './machine.js';
import type { Task } from './task.js';
import { TASK_RUNNING, TASK_UNINTERRUPTIBLE } from './task-state.js';

/** @internal the task continues at once with `resumeValue` */
export const WAIT_CONTINUE = 0;
/** @internal the task's state is not running: switch away until woken */
export const WAIT_BLOCK = 1;
/** @internal the task burns `busyRemaining` ns of CPU time, interruptible */
export const WAIT_BUSY = 2;
/** @internal a voluntary preemption point: switch only if a reschedule is due */
export const WAIT_YIELD = 3;

/**
 * Something a task yields to the scheduler: the simulated counterpart of the
 * point where kernel code calls `schedule()`, directly or through a sleeping
 * primitive. `R` is the value the `yield` (or `yield*`) evaluates to.
 * @public
 */
export abstract class Wait<R = void> {
  /**
   * Decide what the scheduler does with the task that yielded this wait.
   * @internal
   */
  abstract arm(m: Machine, t: Task): number;

  /**
   * Called when a task blocked in this wait was woken: return true to resume
   * its body, or false after re-arming to keep it asleep (spurious wakeup).
   * @internal
   */
  retry(_m: Machine, _t: Task): boolean {
    return true;
  }

  /** Lets a wait be used with `yield*`, which also types its result. */
  *[Symbol.iterator](): Generator<Wait<unknown>, R, unknown> {
    return (yield this as Wait<unknown>) as R;
  }
}

/** `hrtimer_nanosleep()`-style sleep for a duration in ns. @internal */
export class SleepWait extends Wait<void> {
  constructor(private readonly ns: number) {
    super();
  }
  arm(m: Machine, t: Task): number {
    t.state = TASK_UNINTERRUPTIBLE;
    m.sched.armSleep(t, this.ns);
    return WAIT_BLOCK;
  }
  override retry(_m: Machine, t: Task): boolean {
    if (t.timedOut) return true;
    t.state = TASK_UNINTERRUPTIBLE;
    return false;
  }
}

/** `schedule_timeout()` after `set_current_state()`; returns jiffies left. @internal */
export class ScheduleTimeoutWait extends Wait<number> {
  constructor(
    private readonly jiffies: number,
    private readonly loopUntilExpired: boolean,
  ) {
    super();
  }
  arm(m: Machine, t: Task): number {
    if (this.loopUntilExpired) t.state = TASK_UNINTERRUPTIBLE;
    if (t.state === TASK_RUNNING) {
      t.resumeValue = this.jiffies;
      return WAIT_YIELD;
    }
    m.sched.armTimeout(t, this.jiffies);
    return WAIT_BLOCK;
  }
  override retry(m: Machine, t: Task): boolean {
    if (this.loopUntilExpired && !t.timedOut) {
      // msleep() sleeps again for the remainder after an early wakeup.
      t.state = TASK_UNINTERRUPTIBLE;
      return false;
    }
    t.resumeValue = m.sched.cancelTimeout(t);
    return true;
  }
}

/** Burn CPU time without sleeping; interrupts may land meanwhile. @internal */
export class BusyWait extends Wait<void> {
  constructor(
    private readonly ns: number,
    private readonly user: boolean,
  ) {
    super();
  }
  arm(_m: Machine, t: Task): number {
    t.busyRemaining = this.ns;
    t.busyUser = this.user;
    return WAIT_BUSY;
  }
}

/** `cond_resched()`: a might_resched check, then a reschedule if one is due. @internal */
export class CondReschedWait extends Wait<boolean> {
  constructor(private readonly site: string) {
    super();
  }
  arm(m: Machine, t: Task): number {
    m.mightResched(this.site, 0, 0);
    t.resumeValue = false;
    return WAIT_YIELD;
  }
}

/** `schedule()`: block if the task set a sleeping state, else a preemption point. @internal */
export class ScheduleWait extends Wait<void> {
  arm(_m: Machine, t: Task): number {
    return t.state === TASK_RUNNING ? WAIT_YIELD : WAIT_BLOCK;
  }
}

/** Largest completion count (`UINT_MAX`, set by `complete_all()`). */
const UINT_MAX = 0xffffffff;

/**
 * `struct completion` (kernel/sched/completion.c): a count of completions
 * and the tasks waiting for one.
 * @public
 */
export class Completion {
  /** Completions not yet consumed (`x->done`). */
  done = 0;
  /** @internal tasks waiting */
  readonly waiters: Task[] = [];
  private readonly m: Machine;

  constructor(m: Machine) {
    this.m = m;
  }

  /** `complete()`: count one completion and wake the first waiter. */
  complete(): void {
    if (this.done !== UINT_MAX) this.done++;
    const t = this.waiters.shift();
    if (t !== undefined) this.m.wakeUpProcess(t);
  }

  /** `complete_all()`: satisfy every current and future waiter until `reinit()`. */
  completeAll(): void {
    this.done = UINT_MAX;
    const ws = this.waiters.splice(0);
    for (const t of ws) this.m.wakeUpProcess(t);
  }

  /** `reinit_completion()`. */
  reinit(): void {
    this.done = 0;
  }

  /** `completion_done()`: would a wait return at once? */
  isDone(): boolean {
    return this.done !== 0;
  }

  /** `try_wait_for_completion()`: consume a completion if one is available. */
  tryWait(): boolean {
    if (this.done === 0) return false;
    if (this.done !== UINT_MAX) this.done--;
    return true;
  }

  /** `wait_for_completion()`: yield this until `complete()` is called. */
  wait(): Wait<void> {
    return new CompletionWait(this, -1) as Wait<void>;
  }

  /**
   * `wait_for_completion_timeout()`: evaluates to 0 on timeout, else the
   * jiffies left (at least 1).
   */
  waitTimeout(jiffies: number): Wait<number> {
    if (!Number.isInteger(jiffies) || jiffies < 0) {
      throw new RangeError(`waitTimeout(${jiffies}): accepted an integer number of jiffies >= 0`);
    }
    return new CompletionWait(this, jiffies) as Wait<number>;
  }

  /** @internal */
  consume(): void {
    if (this.done !== UINT_MAX) this.done--;
  }
}

/** @internal */
class CompletionWait extends Wait<unknown> {
  constructor(
    private readonly c: Completion,
    private readonly timeout: number,
  ) {
    super();
  }
  arm(m: Machine, t: Task): number {
    m.mightSleep('kernel/sched/completion.c');
    const c = this.c;
    if (c.done !== 0) {
      c.consume();
      t.resumeValue = this.timeout >= 0 ? Math.max(1, this.timeout) : undefined;
      return WAIT_CONTINUE;
    }
    if (this.timeout === 0) {
      t.resumeValue = 0;
      return WAIT_CONTINUE;
    }
    c.waiters.push(t);
    t.state = TASK_UNINTERRUPTIBLE;
    if (this.timeout > 0) m.sched.armTimeout(t, this.timeout);
    return WAIT_BLOCK;
  }
  override retry(m: Machine, t: Task): boolean {
    const c = this.c;
    if (c.done !== 0) {
      c.consume();
      removeTask(c.waiters, t);
      const left = this.timeout > 0 ? m.sched.cancelTimeout(t) : 0;
      t.resumeValue = this.timeout >= 0 ? Math.max(1, left) : undefined;
      return true;
    }
    if (this.timeout > 0 && t.timedOut) {
      removeTask(c.waiters, t);
      t.resumeValue = 0;
      return true;
    }
    if (!c.waiters.includes(t)) c.waiters.push(t);
    t.state = TASK_UNINTERRUPTIBLE;
    return false;
  }
}

/**
 * `struct wait_queue_head`: tasks sleeping until a condition holds
 * (include/linux/wait.h). Wait with `machine.waitEvent(wq, cond)`.
 * @public
 */
export class WaitQueueHead {
  /** @internal */
  readonly waiters: Task[] = [];
  private readonly m: Machine;

  constructor(m: Machine) {
    this.m = m;
  }

  /** `wake_up()`: wake every waiter so it re-checks its condition; returns how many. */
  wakeUp(): number {
    const ws = this.waiters.splice(0);
    for (const t of ws) this.m.wakeUpProcess(t);
    return ws.length;
  }

  /** `waitqueue_active()`. */
  active(): boolean {
    return this.waiters.length > 0;
  }
}

/** `wait_event()` / `wait_event_timeout()`. @internal */
export class WaitEventWait extends Wait<unknown> {
  constructor(
    private readonly wq: WaitQueueHead,
    private readonly cond: () => boolean,
    private readonly timeout: number,
  ) {
    super();
  }
  arm(m: Machine, t: Task): number {
    m.mightSleep('include/linux/wait.h');
    if (this.cond()) {
      t.resumeValue = this.timeout >= 0 ? Math.max(1, this.timeout) : undefined;
      return WAIT_CONTINUE;
    }
    if (this.timeout === 0) {
      t.resumeValue = 0;
      return WAIT_CONTINUE;
    }
    this.wq.waiters.push(t);
    t.state = TASK_UNINTERRUPTIBLE;
    if (this.timeout > 0) m.sched.armTimeout(t, this.timeout);
    return WAIT_BLOCK;
  }
  override retry(m: Machine, t: Task): boolean {
    removeTask(this.wq.waiters, t);
    if (this.cond()) {
      const left = this.timeout > 0 ? m.sched.cancelTimeout(t) : 0;
      t.resumeValue = this.timeout >= 0 ? Math.max(1, left) : undefined;
      return true;
    }
    if (this.timeout > 0 && t.timedOut) {
      t.resumeValue = 0;
      return true;
    }
    this.wq.waiters.push(t);
    t.state = TASK_UNINTERRUPTIBLE;
    return false;
  }
}

function removeTask(list: Task[], t: Task): void {
  const i = list.indexOf(t);
  if (i >= 0) list.splice(i, 1);
}
