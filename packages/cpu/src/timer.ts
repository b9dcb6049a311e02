import type { Machine } from './machine.js';

/** Timer runs callback with irqs off; may be deleted synchronously from hardirq (`TIMER_IRQSAFE`). @public */
export const TIMER_IRQSAFE = 0x00100000;
/** Timer stays on the CPU it was armed on (`TIMER_PINNED`). @public */
export const TIMER_PINNED = 0x00200000;
/** Idle CPUs need not wake up for this timer (`TIMER_DEFERRABLE`). @public */
export const TIMER_DEFERRABLE = 0x00080000;

/** Callback of a {@link TimerList}; runs in TIMER_SOFTIRQ. @public */
export type TimerFn = (timer: TimerList) => void;

const STATE_IDLE = 0;
const STATE_QUEUED = 1;
const STATE_EXPIRING = 2;

/**
 * `struct timer_list`: a jiffy-resolution timer on a CPU's timer wheel,
 * initialised like `timer_setup(timer, fn, flags)`.
 * @public
 */
export class TimerList {
  /** Expiry in jiffies (`timer->expires`). */
  expires = 0;
  /** The callback. */
  readonly fn: TimerFn;
  /** `TIMER_*` flags. */
  readonly flags: number;
  /** @internal CPU whose base holds it */
  cpu = -1;
  /** @internal jiffy at which its wheel bucket expires */
  bucketExpiry = 0;
  /** @internal wheel level */
  level = 0;
  /** @internal enqueue order */
  seq = 0;
  /** @internal position in the base heap */
  heapIndex = -1;
  /** @internal */
  state = STATE_IDLE;
  /** @internal interned callback name for the call chain */
  fnId = 0;

  constructor(fn: TimerFn, flags = 0) {
    this.fn = fn;
    this.flags = flags;
  }
}

/** Per-CPU timer base (`struct timer_base`), a heap ordered like the wheel's expiry order. @internal */
export class TimerBase {
  readonly heap: TimerList[] = [];
  running: TimerList | null = null;

  /** Whether `a` expires before `b`: bucket, then higher wheel level, then newest first. */
  private static before(a: TimerList, b: TimerList): boolean {
    if (a.bucketExpiry !== b.bucketExpiry) return a.bucketExpiry < b.bucketExpiry;
    if (a.level !== b.level) return a.level > b.level;
    return a.seq > b.seq;
  }

  push(t: TimerList): void {
    const h = this.heap;
    h.push(t);
    this.up(h.length - 1);
  }

  remove(t: TimerList): void {
    const h = this.heap;
    const i = t.heapIndex;
    const last = h.pop()!;
    t.heapIndex = -1;
    if (i < h.length) {
      h[i] = last;
      last.heapIndex = i;
      this.up(i);
      this.down(last.heapIndex);
    }
  }

  top(): TimerList | undefined {
    return this.heap[0];
  }

  private up(i: number): void {
    const h = this.heap;
    const t = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = h[p]!;
      if (!TimerBase.before(t, pt)) break;
      h[i] = pt;
      pt.heapIndex = i;
      i = p;
    }
    h[i] = t;
    t.heapIndex = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const t = h[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && TimerBase.before(h[c + 1]!, h[c]!)) c++;
      const ct = h[c]!;
      if (!TimerBase.before(ct, t)) break;
      h[i] = ct;
      ct.heapIndex = i;
      i = c;
    }
    h[i] = t;
    t.heapIndex = i;
  }
}

/**
 * The timer wheels of all CPUs (kernel/time/timer.c). Timers are kept in
 * per-CPU heaps keyed by the expiry of the wheel bucket the kernel would put
 * them in, so the wheel's rounding (a timer never fires early; farther timers
 * fire up to 1/8 of their delay late) is reproduced exactly.
 * @internal
 */
export class TimerWheel {
  readonly bases: TimerBase[] = [];
  private seq = 0;
  private readonly m: Machine;
  private readonly depth: number;

  constructor(m: Machine, nrCpus: number, hz: number) {
    this.m = m;
    this.depth = hz > 100 ? 9 : 8;
    for (let c = 0; c < nrCpus; c++) this.bases.push(new TimerBase());
  }

  /** `calc_wheel_index()`: set `t.level` and `t.bucketExpiry` for its expiry seen from `clk`. */
  private placeInWheel(t: TimerList, clk: number): void {
    const delta = t.expires - clk;
    if (delta < 0) {
      t.level = 0;
      t.bucketExpiry = clk;
      return;
    }
    let lvl = 0;
    while (lvl < this.depth - 1 && delta >= lvlStart(lvl + 1)) lvl++;
    let e = t.expires;
    if (lvl === this.depth - 1) {
      const cutoff = lvlStart(this.depth);
      if (delta >= cutoff) e = clk + cutoff - 8 ** (this.depth - 1);
    }
    const gran = 8 ** lvl;
    t.level = lvl;
    t.bucketExpiry = (Math.floor(e / gran) + 1) * gran;
  }

  pending(t: TimerList): boolean {
    return t.state !== STATE_IDLE;
  }

  /** Queue `t` (not pending) on CPU `cpu`'s base at its current `expires`. */
  enqueue(t: TimerList, cpu: number): void {
    const m = this.m;
    this.placeInWheel(t, m.jiffies);
    t.seq = this.seq++;
    t.cpu = cpu;
    t.state = STATE_QUEUED;
    const base = this.bases[cpu]!;
    const wasTop = base.top();
    base.push(t);
    if (base.top() === t && wasTop !== t) m.tick.timerQueued(cpu);
  }

  /** `mod_timer()` on CPU `cpu`: returns whether the timer was pending. */
  mod(t: TimerList, expires: number, cpu: number): boolean {
    const was = this.detach(t);
    t.expires = expires;
    this.enqueue(t, cpu);
    return was;
  }

  /** `timer_delete()`: returns whether the timer was pending. */
  del(t: TimerList): boolean {
    return this.detach(t);
  }

  private detach(t: TimerList): boolean {
    if (t.state === STATE_QUEUED) {
      this.bases[t.cpu]!.remove(t);
      t.state = STATE_IDLE;
      return true;
    }
    if (t.state === STATE_EXPIRING) {
      t.state = STATE_IDLE;
      return true;
    }
    return false;
  }

  /** Jiffy of the earliest bucket expiry on CPU `c`, or Infinity. */
  nextExpiry(c: number): number {
    const top = this.bases[c]!.top();
    return top === undefined ? Number.POSITIVE_INFINITY : top.bucketExpiry;
  }

  hasExpired(c: number, jiffies: number): boolean {
    const top = this.bases[c]!.top();
    return top !== undefined && top.bucketExpiry <= jiffies;
  }

  /** Is `t` the callback running now on CPU `c`? */
  isRunning(t: TimerList, c: number): boolean {
    return this.bases[c]!.running === t;
  }

  /** `run_timer_softirq()`: expire every due timer of CPU `c`. */
  run(c: number): void {
    const m = this.m;
    const base = this.bases[c]!;
    const j = m.jiffies;
    const due: TimerList[] = [];
    for (let top = base.top(); top !== undefined && top.bucketExpiry <= j; top = base.top()) {
      base.remove(top);
      top.state = STATE_EXPIRING;
      due.push(top);
    }
    for (const t of due) {
      if (t.state !== STATE_EXPIRING) continue; // deleted by an earlier callback
      t.state = STATE_IDLE;
      base.running = t;
      m.clock[c]! += m.costs.timerExpiry;
      if (t.fnId === 0) t.fnId = m.chain.id(t.fn.name || 'timer_fn');
      m.chain.enter(c, t.fnId);
      try {
        t.fn(t);
      } finally {
        m.chain.exit(c);
        base.running = null;
      }
    }
  }
}

function lvlStart(n: number): number {
  return 63 * 8 ** (n - 1);
}
