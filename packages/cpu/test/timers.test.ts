import { describe, expect, it } from 'vitest';
import { createMachine, initialJiffies, TimerList, tickNsec } from '../src/index.js';

describe('jiffies and the tick', () => {
  it('jiffies start at INITIAL_JIFFIES and advance once per tick of virtual time', () => {
    const m = createMachine({ hz: 250 });
    expect(m.jiffies).toBe(initialJiffies(250));
    expect(m.tickNs).toBe(tickNsec(250));
    m.run({ until: 1_000_000_000 });
    expect(m.jiffies - initialJiffies(250)).toBe(250);
    expect(tickNsec(300)).toBe(3_333_333);
  });

  it('the tick runs on busy CPUs, stops on idle ones (NO_HZ) and restarts with work', () => {
    const m = createMachine({ nrCpus: 2 });
    const ticks = [0, 0];
    m.onTick((cpu) => ticks[cpu]!++);
    expect(m.tickRunning(0)).toBe(false);
    m.spawn(
      function* () {
        yield m.busy(10_500_000);
      },
      { cpu: 0 },
    );
    m.run({ until: 5_000_000 });
    expect(m.tickRunning(0)).toBe(true);
    expect(m.tickRunning(1)).toBe(false);
    m.runUntilIdle();
    expect(ticks[0]).toBeGreaterThanOrEqual(10);
    expect(ticks[0]).toBeLessThanOrEqual(12);
    expect(ticks[1]).toBe(0);
    expect(m.tickRunning(0)).toBe(false);
    expect(m.pendingEvents).toBe(0);
  });

  it('the tick reports user time only for user-mode busy time', () => {
    const m = createMachine();
    const seen: boolean[] = [];
    m.onTick((_c, user) => seen.push(user));
    m.spawn(function* () {
      yield m.busy(3_000_000, { user: true });
      yield m.busy(3_000_000);
    });
    m.runUntilIdle();
    expect(seen.slice(0, 2)).toEqual([true, true]);
    expect(seen.slice(-2)).toEqual([false, false]);
  });

  it('a needs-cpu provider keeps the tick on an idle CPU', () => {
    const m = createMachine();
    let need = true;
    m.setNeedsCpuProvider(() => need);
    let ticks = 0;
    m.onTick(() => ticks++);
    m.spawn(function* () {
      yield m.busy(100_000);
    });
    m.run({ until: 5_500_000 });
    expect(ticks).toBe(5);
    need = false;
    m.run({ until: 10_000_000 });
    expect(ticks).toBe(6);
    expect(m.tickRunning(0)).toBe(false);
  });
});

describe('timer_list', () => {
  it('fires in TIMER_SOFTIRQ at the wheel-bucket expiry, on the arming CPU', () => {
    const m = createMachine({ nrCpus: 2 });
    const fired: { j: number; cpu: number; ctx: string }[] = [];
    const t = new TimerList(() => fired.push({ j: m.jiffies, cpu: m.cpu, ctx: m.context() }));
    const j0 = m.jiffies;
    m.runOn(1, () => {
      t.expires = m.jiffies + 10;
      m.addTimer(t);
      expect(m.timerPending(t)).toBe(true);
    });
    m.runUntilIdle();
    // Level 0 rounds up by one jiffy so a timer never fires early.
    expect(fired).toEqual([{ j: j0 + 11, cpu: 1, ctx: 'softirq' }]);
    expect(m.timerPending(t)).toBe(false);
  });

  it('farther timers fire up to one wheel granule late (level 1: 8 jiffies)', () => {
    const m = createMachine();
    let firedAt = 0;
    const t = new TimerList(() => (firedAt = m.jiffies));
    const j0 = m.jiffies;
    m.runOn(0, () => m.modTimer(t, j0 + 100));
    m.runUntilIdle();
    expect(firedAt).toBe(j0 + 104); // (100 >> 3) + 1 = 13 granules of 8 = 104
  });

  it('mod_timer/del_timer return whether the timer was pending', () => {
    const m = createMachine();
    let n = 0;
    const t = new TimerList(() => n++);
    m.runOn(0, () => {
      expect(m.modTimer(t, m.jiffies + 5)).toBe(false);
      expect(m.modTimer(t, m.jiffies + 50)).toBe(true);
      expect(m.timerDelete(t)).toBe(true);
      expect(m.timerDelete(t)).toBe(false);
      expect(m.modTimer(t, m.jiffies + 2)).toBe(false);
    });
    m.runUntilIdle();
    expect(n).toBe(1);
  });

  it('a callback can re-arm its own timer; timer_delete_sync() from it warns', () => {
    const m = createMachine();
    let n = 0;
    const t: TimerList = new TimerList(() => {
      n++;
      if (n < 3) m.modTimer(t, m.jiffies + 1);
      else m.timerDeleteSync(t);
    });
    m.runOn(0, () => m.modTimer(t, m.jiffies + 1));
    m.runUntilIdle();
    expect(n).toBe(3);
    expect(m.reports({ kind: 'timer-misuse' })).toHaveLength(1);
  });

  it('add_timer() of a pending timer warns and changes nothing', () => {
    const m = createMachine();
    const t = new TimerList(() => {});
    m.runOn(0, () => {
      t.expires = m.jiffies + 3;
      m.addTimer(t);
      m.addTimer(t);
    });
    expect(m.reports({ kind: 'timer-misuse' })).toHaveLength(1);
  });

  it('an idle CPU with the tick stopped still wakes up for its timers', () => {
    const m = createMachine();
    let at = 0;
    let ticks = 0;
    m.onTick(() => ticks++);
    const t = new TimerList(() => (at = m.now()));
    m.runOn(0, () => m.modTimer(t, m.jiffies + 500));
    m.runUntilIdle();
    expect(at).toBeGreaterThanOrEqual(500_000_000);
    // NO_HZ: a handful of ticks, not 500.
    expect(ticks).toBeLessThan(3);
  });
});
