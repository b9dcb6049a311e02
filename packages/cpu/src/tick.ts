import {
  HRTIMER_MODE_ABS,
  HRTIMER_MODE_HARD,
  HRTIMER_MODE_PINNED,
  HRTIMER_NORESTART,
  HRTIMER_RESTART,
  Hrtimer,
} from './hrtimer.js';
import type { Machine } from './machine.js';

/**
 * The per-CPU scheduler tick (`tick_sched_timer`, kernel/time/tick-sched.c):
 * a HARD hrtimer at HZ that drives `update_process_times()`, and NO_HZ idle,
 * which stops it on idle CPUs, reprograms it for the next timer-wheel expiry
 * and restarts it when the CPU gets work.
 * @internal
 */
export class TickSched {
  /** 1 while the CPU's periodic tick is stopped (idle, NO_HZ). */
  readonly stopped: Uint8Array;
  private readonly timers: Hrtimer[] = [];
  private readonly m: Machine;
  private readonly tickNs: number;

  constructor(m: Machine, nrCpus: number, tickNs: number) {
    this.m = m;
    this.tickNs = tickNs;
    // CPUs boot idle, so every tick starts stopped.
    this.stopped = new Uint8Array(nrCpus).fill(1);
    for (let c = 0; c < nrCpus; c++) {
      const hr = new Hrtimer(
        function tick_sched_timer(t: Hrtimer) {
          return tickFire(m, c, t);
        },
        HRTIMER_MODE_ABS | HRTIMER_MODE_HARD | HRTIMER_MODE_PINNED,
      );
      this.timers.push(hr);
    }
  }

  /** Virtual time of the first tick boundary strictly after `t`. */
  nextBoundary(t: number): number {
    return (Math.floor(t / this.tickNs) + 1) * this.tickNs;
  }

  /** Virtual time at which jiffy `j` begins. */
  jiffyTime(j: number): number {
    return (j - this.m.initialJiffies) * this.tickNs;
  }

  idleEnter(c: number): void {
    const m = this.m;
    if (m.sched.needsCpu?.(c)) return;
    this.stopped[c] = 1;
    this.idleReprogram(c);
  }

  idleExit(c: number): void {
    if (this.stopped[c] === 0) return;
    this.stopped[c] = 0;
    const m = this.m;
    m.hrtimers.start(this.timers[c]!, this.nextBoundary(m.clock[c]!), c);
  }

  /** With the tick stopped, program it for the next timer-wheel expiry only. */
  idleReprogram(c: number): void {
    if (this.stopped[c] === 0) return;
    const m = this.m;
    const hr = this.timers[c]!;
    const next = m.timers.nextExpiry(c);
    if (next === Number.POSITIVE_INFINITY) {
      m.hrtimers.cancel(hr);
      return;
    }
    const at = Math.max(this.jiffyTime(next), m.clock[c]!);
    if (m.hrtimers.active(hr) && hr.expires <= at) return;
    if (m.hrtimers.isRunning(hr)) return;
    m.hrtimers.start(hr, at, c);
  }

  /** A timer became the first of CPU `c`'s wheel: an idle CPU must wake for it. */
  timerQueued(c: number): void {
    if (this.stopped[c] === 1) this.idleReprogram(c);
  }

  /** The tick runs on CPU `c` (used by tests and RCU-like users). */
  running(c: number): boolean {
    return this.m.hrtimers.active(this.timers[c]!);
  }
}

/** tick_sched_timer(): one tick on CPU `c`, in hardirq. */
function tickFire(m: Machine, c: number, t: Hrtimer): number {
  m.clock[c]! += m.costs.timerTick;
  const sched = m.sched;
  const curr = sched.curr[c]!;
  const user = !curr.isIdle && !curr.kthread && sched.busyEnd[c]! >= 0 && curr.busyUser;
  const hooks = sched.tickHooks;
  for (let i = 0; i < hooks.length; i++) hooks[i]!(c, user);
  sched.tick(c);
  // run_local_timers(): raise TIMER_SOFTIRQ when a wheel bucket is due.
  if (m.timers.hasExpired(c, m.jiffies)) m.softirq.raiseTimer(c);
  m.irqWork.tick(c);
  // The idle loop re-evaluates tick_nohz_idle_stop_tick() after every interrupt.
  if (curr.isIdle && m.tick.stopped[c] === 0 && !sched.needsCpu?.(c)) {
    m.tick.stopped[c] = 1;
  }
  if (m.tick.stopped[c] === 1) return HRTIMER_NORESTART;
  t.forward(m.clock[c]!, m.tickNs);
  return HRTIMER_RESTART;
}
