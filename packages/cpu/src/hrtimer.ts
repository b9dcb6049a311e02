import { MachineError, show } from './errors.js';
import { type EventCallback, NO_EVENT } from './event-queue.js';
import type { Machine } from './machine.js';

/** Absolute expiry (`HRTIMER_MODE_ABS`). @public */
export const HRTIMER_MODE_ABS = 0x00;
/** Expiry relative to now (`HRTIMER_MODE_REL`). @public */
export const HRTIMER_MODE_REL = 0x01;
/** Stay on the arming CPU (`HRTIMER_MODE_PINNED`). @public */
export const HRTIMER_MODE_PINNED = 0x02;
/** Expire in HRTIMER_SOFTIRQ (`HRTIMER_MODE_SOFT`). @public */
export const HRTIMER_MODE_SOFT = 0x04;
/** Expire in hardirq even on PREEMPT_RT (`HRTIMER_MODE_HARD`). @public */
export const HRTIMER_MODE_HARD = 0x08;

/** Callback return: do not re-arm. @public */
export const HRTIMER_NORESTART = 0;
/** Callback return: re-arm at the (forwarded) `expires`. @public */
export const HRTIMER_RESTART = 1;

/** Callback of an {@link Hrtimer}: returns HRTIMER_NORESTART or HRTIMER_RESTART. @public */
export type HrtimerFn = (timer: Hrtimer) => number;

const INACTIVE = 0;
const ENQUEUED = 1;
const EXPIRED = 2;
const RUNNING = 3;

/**
 * `struct hrtimer`: a nanosecond timer, set up like
 * `hrtimer_setup(timer, fn, CLOCK_MONOTONIC, mode)`.
 * @public
 */
export class Hrtimer {
  /** Absolute expiry in ns of virtual time. */
  expires = 0;
  readonly fn: HrtimerFn;
  /** `HRTIMER_MODE_*` bits given at setup. */
  readonly mode: number;
  /** @internal */
  cpu = -1;
  /** @internal */
  handle = NO_EVENT;
  /** @internal */
  state = INACTIVE;
  /** @internal resolved at first start: expires in softirq */
  isSoft = false;
  /** @internal */
  isHard = false;
  /** @internal interned callback name for the call chain */
  fnId = 0;

  constructor(fn: HrtimerFn, mode: number = HRTIMER_MODE_ABS) {
    this.fn = fn;
    this.mode = mode;
  }

  /**
   * `hrtimer_forward()`: move `expires` past `now` in steps of `interval`;
   * returns the number of steps (overruns).
   */
  forward(now: number, interval: number): number {
    if (!(interval > 0)) {
      throw new MachineError(
        'BAD_ARGUMENT',
        `hrtimer forward interval ${show(interval)}: accepted > 0 ns`,
      );
    }
    const delta = now - this.expires;
    if (delta < 0) return 0;
    const n = Math.floor(delta / interval) + 1;
    this.expires += n * interval;
    return n;
  }
}

/**
 * The hrtimer bases of all CPUs (kernel/time/hrtimer.c). Each armed timer is
 * an event at its expiry on its CPU; expiry raises the CPU's local timer
 * interrupt, whose handler runs hard timers and defers soft ones to
 * HRTIMER_SOFTIRQ.
 * @internal
 */
export class HrtimerBases {
  private readonly expired: Hrtimer[][] = [];
  private readonly softExpired: Hrtimer[][] = [];
  private readonly m: Machine;
  private readonly fireFn: EventCallback;

  constructor(m: Machine, nrCpus: number) {
    this.m = m;
    for (let c = 0; c < nrCpus; c++) {
      this.expired.push([]);
      this.softExpired.push([]);
    }
    this.fireFn = (arg: unknown) => this.fire(arg as Hrtimer);
  }

  active(t: Hrtimer): boolean {
    return t.state !== INACTIVE;
  }

  /** `hrtimer_start()` at absolute time `expires` on CPU `cpu`. */
  start(t: Hrtimer, expires: number, cpu: number): void {
    const m = this.m;
    // A timer re-armed from its own callback is RUNNING: cancel() leaves it
    // and run() sees it ENQUEUED when the callback returns.
    this.cancel(t);
    t.isSoft = (t.mode & HRTIMER_MODE_SOFT) !== 0 || (m.rt && (t.mode & HRTIMER_MODE_HARD) === 0);
    t.isHard = (t.mode & HRTIMER_MODE_HARD) !== 0;
    t.expires = expires;
    t.cpu = cpu;
    t.state = ENQUEUED;
    t.handle = m.queue.push(expires, cpu, this.fireFn, t);
  }

  /** `hrtimer_try_to_cancel()` without the running case: returns whether it was queued. */
  cancel(t: Hrtimer): boolean {
    if (t.state === ENQUEUED) {
      this.m.queue.cancel(t.handle);
      t.handle = NO_EVENT;
      t.state = INACTIVE;
      return true;
    }
    if (t.state === EXPIRED) {
      for (const l of [this.expired[t.cpu]!, this.softExpired[t.cpu]!]) {
        const i = l.indexOf(t);
        if (i >= 0) l.splice(i, 1);
      }
      t.state = INACTIVE;
      return true;
    }
    return false;
  }

  isRunning(t: Hrtimer): boolean {
    return t.state === RUNNING;
  }

  /** Expiry event: queue on the CPU's expired list and raise its local timer interrupt. */
  private fire(t: Hrtimer): void {
    t.handle = NO_EVENT;
    if (t.state !== ENQUEUED) return;
    t.state = EXPIRED;
    this.expired[t.cpu]!.push(t);
    this.m.irq.raise(t.cpu, this.m.irq.localTimerIrq);
  }

  /** `hrtimer_interrupt()`: the local timer interrupt handler, in hardirq. */
  interrupt(c: number): void {
    const list = this.expired[c]!;
    if (list.length === 0) return;
    const batch = list.splice(0);
    let raiseSoft = false;
    for (const t of batch) {
      if (t.state !== EXPIRED) continue;
      if (t.isSoft) {
        this.softExpired[c]!.push(t);
        raiseSoft = true;
        continue;
      }
      this.run(c, t, true);
    }
    if (raiseSoft) this.m.softirq.raiseHrtimer(c);
  }

  /** `hrtimer_run_softirq()`: expire soft timers of CPU `c`. */
  runSoft(c: number): void {
    const batch = this.softExpired[c]!.splice(0);
    for (const t of batch) {
      if (t.state !== EXPIRED) continue;
      this.run(c, t, false);
    }
  }

  private run(c: number, t: Hrtimer, inHardirq: boolean): void {
    const m = this.m;
    t.state = RUNNING;
    m.clock[c]! += m.costs.timerExpiry;
    // lockdep_hrtimer_enter(): a timer not marked HARD that expires in hardirq
    // (only possible on !RT) runs with irq_config set.
    const prevConfig = m.ctx.irqConfig[c]!;
    if (inHardirq && !t.isHard) m.ctx.irqConfig[c] = 1;
    if (t.fnId === 0) t.fnId = m.chain.id(t.fn.name || 'hrtimer_fn');
    m.chain.enter(c, t.fnId);
    let r: number;
    try {
      r = t.fn(t);
    } finally {
      m.chain.exit(c);
      m.ctx.irqConfig[c] = prevConfig;
    }
    if (t.state === RUNNING) {
      if (r === HRTIMER_RESTART) {
        t.state = ENQUEUED;
        t.handle = m.queue.push(t.expires, t.cpu, this.fireFn, t);
      } else {
        t.state = INACTIVE;
      }
    }
  }
}
