import { type Machine, type Rng, type Task, TimerList, type Wait } from '@sim/cpu';
import type { SpinLock } from '@sim/locks';
import type { RcuCallback } from './callbacks.js';
import { RcuError, show } from './errors.js';
import type { Rcu } from './rcu.js';

/** `RCU_TORTURE_PIPE_LEN`: grace periods an element goes through before it is freed. @public */
export const RCU_TORTURE_PIPE_LEN = 10;

/** Element layout: rcu_head, pipe count, mbtest. */
const E_PIPE = 16;
const E_MBTEST = 24;
const E_SIZE = 64;

/** Options of {@link startRcuTorture}, after rcutorture's module parameters. @public */
export interface RcuTortureOptions {
  /** Virtual time to run for, in ns. Default 1 s. */
  readonly durationNs?: number;
  /** `nreaders`: reader kthreads. Default one per CPU. */
  readonly readers?: number;
  /** `nfakewriters`: tasks that only wait for grace periods. Default 2. */
  readonly fakeWriters?: number;
  /** Probability per probe hit of an injected NMI reader (at rcu_read_unlock() and call_rcu()). Default 0.02; 0 disables. */
  readonly nmiRate?: number;
  /** Longest irqs-off period of the tick-delaying disruptors, in ns. Default 2 ms; 0 disables. */
  readonly irqsOffMaxNs?: number;
  /** Length of the occasional long reader, in ns. Default 20 ms. */
  readonly longReaderNs?: number;
  /** Run the rcu_barrier() test. Default true. */
  readonly barrier?: boolean;
  /** Run readers from a timer (softirq) too (`irqreader`). Default true. */
  readonly irqReader?: boolean;
}

/** What an rcutorture run found. @public */
export interface RcuTortureResult {
  /** Elements published by the writer (`rtc` version). */
  readonly writes: number;
  /** Read-side critical sections completed, by task, timer and NMI readers. */
  readonly reads: number;
  /** Reads by the timer (softirq) reader. */
  readonly timerReads: number;
  /** Reads by injected NMIs. */
  readonly nmiReads: number;
  /** `Reader Pipe:` histogram: index = grace periods the element had seen when read (last bucket = PIPE_LEN or more). */
  readonly pipe: readonly number[];
  /** Readers that saw a freed element (`rtmbe`). */
  readonly mbErrors: number;
  /** rcu_barrier() checks that found a callback not yet invoked. */
  readonly barrierErrors: number;
  /** Grace periods completed meanwhile. */
  readonly gracePeriods: number;
  /** Total errors: too-short grace periods (pipe index above 1), mbtest and barrier errors. */
  readonly errors: number;
  /** No errors. */
  readonly success: boolean;
  /** The summary lines printed to the log. */
  readonly summary: readonly string[];
}

type UpdateMode = 'async' | 'sync' | 'exp' | 'cond' | 'poll' | 'poll_full';
const MODES: readonly UpdateMode[] = ['async', 'sync', 'exp', 'cond', 'poll', 'poll_full'];

/**
 * An rcutorture-style stress test (kernel/rcu/rcutorture.c) on a booted RCU:
 * a writer publishes elements and retires them through every update-side
 * primitive, each retirement bumping the element's pipe count once per
 * grace period until it reaches {@link RCU_TORTURE_PIPE_LEN} and is freed;
 * readers of every flavour (task, timer and injected-NMI) record the pipe
 * count they see — anything above 1 means a grace period ended under a
 * reader. Fault injection without CPU hotplug: irqs-off periods that delay
 * ticks and IPIs, occasional long readers, NMIs landing in RCU paths.
 * Create with {@link startRcuTorture}, run the machine, then `finish()`.
 * @public
 */
export class RcuTorture {
  private readonly m: Machine;
  private readonly base: number;
  private readonly free: number[] = [];
  private readonly removed: number[] = [];
  private readonly lock: SpinLock;
  private readonly cb: RcuCallback;
  private readonly currentAddr: number;
  private readonly pipe = new Float64Array(RCU_TORTURE_PIPE_LEN + 1);
  private readonly end: number;
  private readonly gpsAtStart: number;
  private readonly tasks: Task[] = [];
  private writes = 0;
  private reads = 0;
  private timerReads = 0;
  private nmiReads = 0;
  private mbErrors = 0;
  private barrierErrors = 0;
  private readerBusy = false;
  private finished = false;

  /** @internal use {@link startRcuTorture} */
  constructor(
    private readonly rcu: Rcu,
    private readonly opts: Required<RcuTortureOptions>,
  ) {
    const m = rcu.machine;
    this.m = m;
    const n = 10 * RCU_TORTURE_PIPE_LEN;
    this.base = m.memory.memblockAlloc(n * E_SIZE, 64);
    for (let i = n - 1; i >= 0; i--) this.free.push(this.base + i * E_SIZE);
    this.currentAddr = m.memory.memblockAlloc(8, 64);
    this.lock = rcu.locking.spinLock('rcu_torture_lock');
    const self = this;
    this.cb = rcu.defineCallback('rcu_torture_cb', function rcu_torture_cb(head: number) {
      if (self.pipeUpdateOne(head)) self.freeElement(head);
      else rcu.callRcu(head, self.cb);
    });
    this.end = m.now() + opts.durationNs;
    this.gpsAtStart = rcu.stats().gpCompleted;
    this.spawnAll();
  }

  private rng(name: string): Rng {
    return this.m.rng(`rcutorture/${name}`);
  }

  private done(): boolean {
    return this.m.now() >= this.end;
  }

  private alloc(): number {
    this.lock.lockBh();
    const p = this.free.pop() ?? 0;
    this.lock.unlockBh();
    return p;
  }

  private freeElement(p: number): void {
    this.lock.lockBh();
    this.free.push(p);
    this.lock.unlockBh();
  }

  /** `rcu_torture_pipe_update_one()`: true once the element may be freed. */
  private pipeUpdateOne(p: number): boolean {
    const m = this.m;
    const i = Math.min(m.load(p + E_PIPE), RCU_TORTURE_PIPE_LEN);
    m.store(p + E_PIPE, i + 1);
    if (i + 1 >= RCU_TORTURE_PIPE_LEN) {
      m.store(p + E_MBTEST, 0);
      return true;
    }
    return false;
  }

  /** `rcu_torture_pipe_update()`: after a synchronous grace period, every removed element ages. */
  private pipeUpdate(old: number): void {
    if (old !== 0) this.removed.push(old);
    const keep: number[] = [];
    for (const p of this.removed) {
      if (this.pipeUpdateOne(p)) this.freeElement(p);
      else keep.push(p);
    }
    this.removed.length = 0;
    this.removed.push(...keep);
  }

  /** One read-side critical section (`rcu_torture_one_read()`); `delayNs` 0 for irq/NMI readers. */
  private readOnce(
    flavour: number,
    delayNs: number,
  ): Generator<Wait<unknown>, void, unknown> | null {
    const rcu = this.rcu;
    const m = this.m;
    if (flavour === 0) rcu.rcuReadLock();
    else if (flavour === 1) rcu.rcuReadLockBh();
    else rcu.rcuReadLockSched();
    // Lockdep does not track locks taken in NMI, so NMI readers use the _check form.
    const p =
      flavour === 0 && !m.inNmi()
        ? rcu.rcuDereference(this.currentAddr, 'kernel/rcu/rcutorture.c:2110')
        : rcu.rcuDereferenceCheck(this.currentAddr, true);
    if (p === 0) {
      this.unlockFlavour(flavour);
      return null;
    }
    if (m.load(p + E_MBTEST) === 0) this.mbErrors++;
    if (delayNs === 0) {
      this.finishRead(p, flavour);
      return null;
    }
    const self = this;
    return (function* () {
      yield m.busy(delayNs);
      self.finishRead(p, flavour);
    })();
  }

  private finishRead(p: number, flavour: number): void {
    const m = this.m;
    if (m.load(p + E_MBTEST) === 0) this.mbErrors++;
    const pc = Math.min(m.load(p + E_PIPE), RCU_TORTURE_PIPE_LEN);
    this.pipe[pc] = this.pipe[pc]! + 1;
    this.unlockFlavour(flavour);
  }

  private unlockFlavour(flavour: number): void {
    const rcu = this.rcu;
    if (flavour === 0) rcu.rcuReadUnlock();
    else if (flavour === 1) rcu.rcuReadUnlockBh();
    else rcu.rcuReadUnlockSched();
  }

  private spawnAll(): void {
    const m = this.m;
    const o = this.opts;
    const self = this;
    const nr = m.nrCpus;
    // rcu_torture_writer
    this.tasks.push(
      m.spawn(
        function* rcu_torture_writer() {
          yield* self.writer();
        },
        { comm: 'rcu_torture_wri', kthread: true },
      ),
    );
    for (let i = 0; i < o.fakeWriters; i++) {
      this.tasks.push(
        m.spawn(
          function* rcu_torture_fakewriter() {
            yield* self.fakeWriter(i);
          },
          { comm: 'rcu_torture_fak', kthread: true },
        ),
      );
    }
    for (let i = 0; i < o.readers; i++) {
      this.tasks.push(
        m.spawn(
          function* rcu_torture_reader() {
            yield* self.reader(i);
          },
          { comm: 'rcu_torture_rea', kthread: true, cpu: i % nr },
        ),
      );
    }
    if (o.irqsOffMaxNs > 0) {
      for (let c = 0; c < nr; c++) {
        this.tasks.push(
          m.spawn(
            function* rcu_torture_irqs_off() {
              yield* self.disruptor(c);
            },
            { comm: 'rcu_torture_irq', kthread: true, cpu: c, affinity: [c] },
          ),
        );
      }
    }
    if (o.barrier) {
      this.tasks.push(
        m.spawn(
          function* rcu_torture_barrier() {
            yield* self.barrierTest();
          },
          { comm: 'rcu_torture_bar', kthread: true },
        ),
      );
    }
    if (o.irqReader) {
      const rng = this.rng('timer');
      const t = new TimerList(function rcu_torture_timer(timer: TimerList) {
        if (self.done() || self.readerBusy) return;
        self.readerBusy = true;
        self.readOnce(rng.int(3), 0);
        self.readerBusy = false;
        self.timerReads++;
        m.modTimer(timer, m.jiffies + 1 + rng.int(3));
      });
      m.runOn(0, () => m.modTimer(t, m.jiffies + 1));
    }
    if (o.nmiRate > 0) {
      const handler = () => {
        if (self.done()) return;
        const r = self.readOnce(0, 0);
        if (r === null) self.nmiReads++;
      };
      m.injectNmi('rcu.read_unlock', { rate: o.nmiRate }, handler);
      m.injectNmi('rcu.call_rcu', { rate: o.nmiRate }, handler);
    }
  }

  private *writer(): Generator<Wait<unknown>, void, unknown> {
    const m = this.m;
    const rcu = this.rcu;
    const rng = this.rng('writer');
    while (!this.done()) {
      const rp = this.alloc();
      if (rp === 0) {
        yield m.sleep(1_000_000);
        continue;
      }
      m.store(rp + E_PIPE, 0);
      yield m.busy(rng.int(500) * 1000);
      const old = rcu.rcuAccessPointer(this.currentAddr);
      m.store(rp + E_MBTEST, 1);
      rcu.rcuAssignPointer(this.currentAddr, rp);
      this.writes++;
      if (old !== 0) {
        // The writer's own increment: readers may see 1 before any grace period.
        const i = Math.min(m.load(old + E_PIPE), RCU_TORTURE_PIPE_LEN);
        m.store(old + E_PIPE, i + 1);
        const mode = MODES[rng.int(MODES.length)]!;
        switch (mode) {
          case 'async':
            rcu.callRcu(old, this.cb);
            break;
          case 'sync':
            yield* rcu.synchronizeRcu();
            this.pipeUpdate(old);
            break;
          case 'exp':
            yield* rcu.synchronizeRcuExpedited();
            this.pipeUpdate(old);
            break;
          case 'cond': {
            const cookie = rcu.getStateSynchronizeRcu();
            yield m.sleep(rng.int(4) * 1_000_000);
            yield* rcu.condSynchronizeRcu(cookie);
            this.pipeUpdate(old);
            break;
          }
          case 'poll': {
            const cookie = rcu.startPollSynchronizeRcu();
            while (!rcu.pollStateSynchronizeRcu(cookie)) yield m.sleep(500_000);
            this.pipeUpdate(old);
            break;
          }
          case 'poll_full': {
            const s = rcu.getStateSynchronizeRcuFull();
            rcu.startPollSynchronizeRcu();
            while (!rcu.pollStateSynchronizeRcuFull(s)) yield m.sleep(500_000);
            this.pipeUpdate(old);
            break;
          }
        }
      }
      yield m.sleep(rng.int(3) * 100_000);
    }
  }

  private *fakeWriter(i: number): Generator<Wait<unknown>, void, unknown> {
    const m = this.m;
    const rcu = this.rcu;
    const rng = this.rng(`fakewriter${i}`);
    while (!this.done()) {
      yield m.sleep(rng.int(10) * 1_000_000);
      switch (rng.int(4)) {
        case 0:
          yield* rcu.synchronizeRcu();
          break;
        case 1:
          yield* rcu.synchronizeRcuExpedited();
          break;
        case 2:
          yield* rcu.condSynchronizeRcu(rcu.getStateSynchronizeRcu());
          break;
        default: {
          const c = rcu.startPollSynchronizeRcu();
          while (!rcu.pollStateSynchronizeRcu(c)) yield m.sleep(1_000_000);
        }
      }
    }
  }

  private *reader(i: number): Generator<Wait<unknown>, void, unknown> {
    const m = this.m;
    const rng = this.rng(`reader${i}`);
    const o = this.opts;
    while (!this.done()) {
      const flavour = rng.int(3);
      // rcu_read_delay(): mostly short, occasionally a long reader.
      const delay = rng.chance(0.001) ? o.longReaderNs : 1000 + rng.int(50) * 1000;
      const g = this.readOnce(flavour, delay);
      if (g !== null) {
        yield* g;
        this.reads++;
      }
      if (rng.chance(0.3)) yield m.sleep(rng.int(200) * 1000);
      else yield m.condResched('kernel/rcu/rcutorture.c');
    }
  }

  private *disruptor(c: number): Generator<Wait<unknown>, void, unknown> {
    const m = this.m;
    const rng = this.rng(`irqs-off${c}`);
    while (!this.done()) {
      yield m.sleep((5 + rng.int(20)) * 1_000_000);
      m.localIrqDisable();
      yield m.busy(rng.int(this.opts.irqsOffMaxNs));
      m.localIrqEnable();
    }
  }

  private *barrierTest(): Generator<Wait<unknown>, void, unknown> {
    const m = this.m;
    const rcu = this.rcu;
    const head = m.memory.memblockAlloc(16, 16);
    let ran = 0;
    const cb = rcu.defineCallback('rcu_torture_barrier_cbf', () => ran++);
    while (!this.done()) {
      yield m.sleep(50_000_000);
      const before = ran;
      rcu.callRcu(head, cb);
      yield* rcu.rcuBarrier();
      if (ran !== before + 1) this.barrierErrors++;
    }
  }

  /** Print rcutorture's summary and return the verdict. Call after the machine ran past the duration. */
  finish(): RcuTortureResult {
    const m = this.m;
    const pipe = Array.from(this.pipe);
    let hi = RCU_TORTURE_PIPE_LEN;
    while (hi > 0 && pipe[hi] === 0) hi--;
    const tooShort = hi > 1 ? pipe.slice(2).reduce((a, b) => a + b, 0) : 0;
    const errors = tooShort + this.mbErrors + this.barrierErrors;
    const success = errors === 0;
    const gps = this.rcu.stats().gpCompleted - this.gpsAtStart;
    const bang = success ? '' : '!!! ';
    const summary = [
      `rcu-torture: ${bang}rtc: ${this.writes} ver: ${this.writes} tfle: ${this.free.length === 0 ? 1 : 0} rta: ${this.writes} rtaf: 0 rtf: ${this.writes - this.removed.length} rtmbe: ${this.mbErrors} rtbe: ${this.barrierErrors} nt: ${this.reads + this.timerReads + this.nmiReads} gps: ${gps}`,
      `rcu-torture: Reader Pipe: ${pipe.join(' ')}`,
      `rcu-torture:--- End of test: ${success ? 'SUCCESS' : 'FAILURE'}: nreaders=${this.opts.readers} nfakewriters=${this.opts.fakeWriters} irqreader=${this.opts.irqReader ? 1 : 0} test_nmis=${this.opts.nmiRate > 0 ? 1 : 0}`,
    ];
    if (!this.finished) {
      for (const l of summary) m.printk(success ? 'info' : 'alert', l);
      this.finished = true;
    }
    return {
      writes: this.writes,
      reads: this.reads + this.timerReads + this.nmiReads,
      timerReads: this.timerReads,
      nmiReads: this.nmiReads,
      pipe,
      mbErrors: this.mbErrors,
      barrierErrors: this.barrierErrors,
      gracePeriods: gps,
      errors,
      success,
      summary,
    };
  }
}

/**
 * Start an rcutorture-style run on `rcu`'s machine: spawn the writer,
 * fake writers, readers, disruptors and the barrier tester. Run the machine
 * for at least `durationNs` (plus time for the last grace periods), then call
 * `finish()`.
 * @public
 */
export function startRcuTorture(rcu: Rcu, options: RcuTortureOptions = {}): RcuTorture {
  const m = rcu.machine;
  const num = (k: keyof RcuTortureOptions, d: number, min: number): number => {
    const v = options[k];
    if (v === undefined) return d;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
      throw new RcuError(
        'BAD_OPTION',
        `rcutorture option ${k} = ${show(v)} is invalid: accepted a number ≥ ${min}`,
      );
    }
    return v;
  };
  const bool = (k: keyof RcuTortureOptions, d: boolean): boolean => {
    const v = options[k];
    if (v === undefined) return d;
    if (typeof v !== 'boolean')
      throw new RcuError(
        'BAD_OPTION',
        `rcutorture option ${k} = ${show(v)} is invalid: accepted true or false`,
      );
    return v;
  };
  const nmiRate = num('nmiRate', 0.02, 0);
  if (nmiRate > 1)
    throw new RcuError(
      'BAD_OPTION',
      `rcutorture option nmiRate = ${nmiRate} is invalid: accepted a probability in [0, 1]`,
    );
  return new RcuTorture(rcu, {
    durationNs: num('durationNs', 1_000_000_000, 1),
    readers: Math.floor(num('readers', m.nrCpus, 1)),
    fakeWriters: Math.floor(num('fakeWriters', 2, 0)),
    nmiRate,
    irqsOffMaxNs: num('irqsOffMaxNs', 2_000_000, 0),
    longReaderNs: num('longReaderNs', 20_000_000, 1),
    barrier: bool('barrier', true),
    irqReader: bool('irqReader', true),
  });
}
