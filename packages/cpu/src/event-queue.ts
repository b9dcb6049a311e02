/**
 * The machine's global event queue: a binary min-heap ordered by (time,
 * insertion sequence) kept in typed arrays, with stable handles that allow
 * cancellation. It plays the part of the clockevent devices and the
 * hrtimer/timer bases of all CPUs together: everything that happens later in
 * virtual time is an entry here.
 */

/** Callback of an event; `arg` is whatever was passed when it was queued. @public */
export type EventCallback = (arg: unknown) => void;

/**
 * Handle of a queued event, from {@link EventQueue.push}. A handle stays
 * invalid after its event ran or was cancelled, even if the slot is reused.
 * @public
 */
export type EventHandle = number;

/** A handle that never refers to a queued event. @public */
export const NO_EVENT: EventHandle = -1;

const SLOT_SPACE = 2 ** 24;
const GEN_SPACE = 2 ** 28;

/**
 * Min-heap of events on (time, seq). Allocation-free per operation once its
 * arrays have grown to the peak number of pending events.
 * @public
 */
export class EventQueue {
  private heapTime: Float64Array;
  private heapSeq: Float64Array;
  private heapSlot: Int32Array;
  private n = 0;

  private slotPos: Int32Array;
  private slotGen: Int32Array;
  private slotCpu: Int32Array;
  private readonly slotFn: (EventCallback | null)[] = [];
  private readonly slotArg: unknown[] = [];
  private freeSlots: Int32Array;
  private nFree = 0;
  private nSlots = 0;
  private seq = 0;

  /** Time of the event returned by the last {@link EventQueue.pop}. */
  outTime = 0;
  /** CPU of the event returned by the last {@link EventQueue.pop}. */
  outCpu = 0;
  /** Callback of the event returned by the last {@link EventQueue.pop}. */
  outFn: EventCallback | null = null;
  /** Argument of the event returned by the last {@link EventQueue.pop}. */
  outArg: unknown = undefined;

  constructor(initialCapacity = 256) {
    const cap = Math.max(16, initialCapacity | 0);
    this.heapTime = new Float64Array(cap);
    this.heapSeq = new Float64Array(cap);
    this.heapSlot = new Int32Array(cap);
    this.slotPos = new Int32Array(cap);
    this.slotGen = new Int32Array(cap);
    this.slotCpu = new Int32Array(cap);
    this.freeSlots = new Int32Array(cap);
  }

  /** Number of pending events. */
  get size(): number {
    return this.n;
  }

  /** Time of the earliest pending event, or `Infinity` when empty. */
  peekTime(): number {
    return this.n > 0 ? this.heapTime[0]! : Number.POSITIVE_INFINITY;
  }

  /** Queue `fn(arg)` to run on `cpu` at virtual time `time` (ns). */
  push(time: number, cpu: number, fn: EventCallback, arg: unknown): EventHandle {
    let slot: number;
    if (this.nFree > 0) {
      slot = this.freeSlots[--this.nFree]!;
    } else {
      slot = this.nSlots++;
      if (slot >= this.slotPos.length) this.growSlots();
      if (slot >= SLOT_SPACE) throw new RangeError('event queue: more than 2^24 pending events');
    }
    this.slotCpu[slot] = cpu;
    this.slotFn[slot] = fn;
    this.slotArg[slot] = arg;
    const i = this.n++;
    if (i >= this.heapTime.length) this.growHeap();
    this.siftUp(i, time, this.seq++, slot);
    return this.slotGen[slot]! * SLOT_SPACE + slot;
  }

  /** True while the event behind `handle` is still queued. */
  isPending(handle: EventHandle): boolean {
    if (handle < 0) return false;
    const slot = handle % SLOT_SPACE;
    if (slot >= this.nSlots) return false;
    return this.slotGen[slot] === Math.floor(handle / SLOT_SPACE) && this.slotPos[slot]! >= 0;
  }

  /** Expiry time of a pending event, or `NaN` if it is not pending. */
  timeOf(handle: EventHandle): number {
    // A pending event's time is its heap entry's.
    return this.isPending(handle) ? this.heapTime[this.slotPos[handle % SLOT_SPACE]!]! : Number.NaN;
  }

  /** Remove a pending event; returns false if it already ran or was cancelled. */
  cancel(handle: EventHandle): boolean {
    if (!this.isPending(handle)) return false;
    const slot = handle % SLOT_SPACE;
    const pos = this.slotPos[slot]!;
    this.freeSlot(slot);
    const last = --this.n;
    if (pos !== last) {
      const t = this.heapTime[last]!;
      const s = this.heapSeq[last]!;
      const sl = this.heapSlot[last]!;
      if (pos > 0 && this.before(t, s, (pos - 1) >> 1)) this.siftUp(pos, t, s, sl);
      else this.siftDown(pos, t, s, sl);
    }
    return true;
  }

  /**
   * Remove the earliest event and expose it through `outTime`, `outCpu`,
   * `outFn`, `outArg`. Returns false when the queue is empty.
   */
  pop(): boolean {
    if (this.n === 0) return false;
    const slot = this.heapSlot[0]!;
    this.outTime = this.heapTime[0]!;
    this.outCpu = this.slotCpu[slot]!;
    this.outFn = this.slotFn[slot]!;
    this.outArg = this.slotArg[slot];
    this.freeSlot(slot);
    const last = --this.n;
    if (last > 0) {
      this.siftDown(0, this.heapTime[last]!, this.heapSeq[last]!, this.heapSlot[last]!);
    }
    return true;
  }

  /** Drop every pending event. */
  clear(): void {
    while (this.n > 0) this.freeSlot(this.heapSlot[--this.n]!);
  }

  private freeSlot(slot: number): void {
    this.slotPos[slot] = -1;
    this.slotGen[slot] = (this.slotGen[slot]! + 1) % GEN_SPACE;
    this.slotFn[slot] = null;
    this.slotArg[slot] = undefined;
    this.freeSlots[this.nFree++] = slot;
  }

  /** Whether (t, s) orders before the heap entry at `j`. */
  private before(t: number, s: number, j: number): boolean {
    const tj = this.heapTime[j]!;
    return t < tj || (t === tj && s < this.heapSeq[j]!);
  }

  private siftUp(i: number, t: number, s: number, slot: number): void {
    const ht = this.heapTime;
    const hs = this.heapSeq;
    const hsl = this.heapSlot;
    const pos = this.slotPos;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const tp = ht[p]!;
      if (t > tp || (t === tp && s > hs[p]!)) break;
      ht[i] = tp;
      hs[i] = hs[p]!;
      const ps = hsl[p]!;
      hsl[i] = ps;
      pos[ps] = i;
      i = p;
    }
    ht[i] = t;
    hs[i] = s;
    hsl[i] = slot;
    pos[slot] = i;
  }

  private siftDown(i: number, t: number, s: number, slot: number): void {
    const ht = this.heapTime;
    const hs = this.heapSeq;
    const hsl = this.heapSlot;
    const pos = this.slotPos;
    const n = this.n;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      let tc = ht[c]!;
      let sc = hs[c]!;
      const r = c + 1;
      if (r < n) {
        const tr = ht[r]!;
        const sr = hs[r]!;
        if (tr < tc || (tr === tc && sr < sc)) {
          c = r;
          tc = tr;
          sc = sr;
        }
      }
      if (t < tc || (t === tc && s < sc)) break;
      ht[i] = tc;
      hs[i] = sc;
      const cs = hsl[c]!;
      hsl[i] = cs;
      pos[cs] = i;
      i = c;
    }
    ht[i] = t;
    hs[i] = s;
    hsl[i] = slot;
    pos[slot] = i;
  }

  private growHeap(): void {
    const cap = this.heapTime.length * 2;
    const t = new Float64Array(cap);
    t.set(this.heapTime);
    this.heapTime = t;
    const s = new Float64Array(cap);
    s.set(this.heapSeq);
    this.heapSeq = s;
    const sl = new Int32Array(cap);
    sl.set(this.heapSlot);
    this.heapSlot = sl;
  }

  private growSlots(): void {
    const cap = this.slotPos.length * 2;
    const grow32 = (a: Int32Array): Int32Array => {
      const b = new Int32Array(cap);
      b.set(a);
      return b;
    };
    this.slotPos = grow32(this.slotPos);
    this.slotGen = grow32(this.slotGen);
    this.slotCpu = grow32(this.slotCpu);
    this.freeSlots = grow32(this.freeSlots);
  }
}
