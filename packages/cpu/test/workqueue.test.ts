import { describe, expect, it } from 'vitest';
import { Completion, createMachine, DelayedWork, Work } from '../src/index.js';

describe('system workqueue', () => {
  it('runs queued work on the kworker of the chosen CPU, in task context', () => {
    const m = createMachine({ nrCpus: 2 });
    const seen: string[] = [];
    const w = new Work(function my_work() {
      seen.push(`${m.current.comm} ${m.cpu} ${m.context()} ${m.preemptible()}`);
    });
    m.runOn(0, () => {
      expect(m.queueWork(w, 1)).toBe(true);
      expect(m.queueWork(w, 1)).toBe(false);
      expect(w.pending).toBe(true);
    });
    m.runUntilIdle();
    expect(seen).toEqual(['kworker/1:0 1 task true']);
    expect(w.pending).toBe(false);
  });

  it('work functions may sleep; another worker serves the pool meanwhile', () => {
    const m = createMachine();
    const order: string[] = [];
    const slow = new Work(function* slow_work() {
      order.push(`slow start ${m.current.comm}`);
      yield m.msleep(10);
      order.push('slow end');
    });
    const fast = new Work(() => {
      order.push(`fast ${m.current.comm}`);
    });
    m.runOn(0, () => {
      m.queueWork(slow);
      m.queueWork(fast);
    });
    m.runUntilIdle();
    expect(order).toEqual(['slow start kworker/0:0', 'fast kworker/0:1', 'slow end']);
  });

  it('flush_work() waits for the queued instance; returns false when idle', () => {
    const m = createMachine({ nrCpus: 2 });
    let ran = 0;
    const w = new Work(function* () {
      yield m.sleep(500_000);
      ran++;
    });
    const flusher = m.spawn(
      function* () {
        m.queueWork(w, 1);
        const waited = yield* m.flushWork(w);
        const again = yield* m.flushWork(w);
        return { waited, again, ran };
      },
      { cpu: 0 },
    );
    m.runUntilIdle();
    expect(flusher.result).toEqual({ waited: true, again: false, ran: 1 });
  });

  it('delayed work runs after its delay; cancel_delayed_work() stops it; mod re-arms', () => {
    const m = createMachine();
    const at: number[] = [];
    const dw = new DelayedWork(() => {
      at.push(m.jiffies);
    });
    const j0 = m.jiffies;
    m.runOn(0, () => {
      expect(m.queueDelayedWork(dw, 20)).toBe(true);
      expect(m.queueDelayedWork(dw, 5)).toBe(false);
    });
    m.run({ until: 5_000_000 });
    expect(m.runOn(0, () => m.modDelayedWork(dw, 3))).toBe(true);
    m.runUntilIdle();
    expect(at).toHaveLength(1);
    expect(at[0]! - j0).toBeGreaterThanOrEqual(8);
    expect(at[0]! - j0).toBeLessThan(12);

    m.runOn(0, () => m.queueDelayedWork(dw, 10));
    expect(m.cancelDelayedWork(dw)).toBe(true);
    expect(m.cancelDelayedWork(dw)).toBe(false);
    m.runUntilIdle();
    expect(at).toHaveLength(1);
  });

  it('cancel_delayed_work_sync() waits for a running instance', () => {
    const m = createMachine({ nrCpus: 2 });
    const started = new Completion(m);
    let finished = false;
    const dw = new DelayedWork(function* () {
      started.complete();
      yield m.msleep(5);
      finished = true;
    });
    const t = m.spawn(
      function* () {
        m.queueDelayedWork(dw, 0, 1);
        yield started.wait();
        const was = yield* m.cancelDelayedWorkSync(dw);
        return { was, finished };
      },
      { cpu: 0 },
    );
    m.runUntilIdle();
    expect(t.result).toEqual({ was: false, finished: true });
  });

  it('flush_delayed_work() queues an armed delayed work at once', () => {
    const m = createMachine();
    let ran = 0;
    const dw = new DelayedWork(() => {
      ran++;
    });
    const t = m.spawn(function* () {
      m.queueDelayedWork(dw, 1000);
      const start = m.jiffies;
      yield* m.flushDelayedWork(dw);
      return m.jiffies - start;
    });
    m.runUntilIdle();
    expect(ran).toBe(1);
    expect(t.result).toBeLessThan(5);
  });
});
