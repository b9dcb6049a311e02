import { createMachine } from '@sim/cpu';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RCU_DONE_TAIL, RCU_NEXT_READY_TAIL, RCU_NEXT_TAIL, RCU_WAIT_TAIL } from '../src/index.js';
import { RcuCbList, SegCbLists } from '../src/segcblist.js';

function setup() {
  const m = createMachine({ nrCpus: 1 });
  const base = m.memory.memblockAlloc(64, 64);
  const heads = m.memory.memblockAlloc(16 * 1024, 64);
  const l = new SegCbLists(m, 1, base);
  return { m, l, head: (i: number) => heads + i * 16 };
}

/** Walk the list in memory from the head word. */
function walk(m: ReturnType<typeof createMachine>, l: SegCbLists): number[] {
  const out: number[] = [];
  for (let p = m.memory.read(l.headAddr[0]!); p !== 0; p = m.memory.read(p)) out.push(p);
  return out;
}

describe('rcu_segcblist (kernel/rcu/rcu_segcblist.c)', { timeout: 60_000 }, () => {
  it('enqueue appends to NEXT; accelerate gives NEXT a grace period; advance moves it to DONE', () => {
    const { m, l, head } = setup();
    l.enqueue(0, head(0), 0);
    l.enqueue(0, head(1), 0);
    expect(l.segLen(0, RCU_NEXT_TAIL)).toBe(2);
    expect(l.accelerate(0, 8)).toBe(true);
    expect(l.segLen(0, RCU_WAIT_TAIL)).toBe(2);
    l.enqueue(0, head(2), 0);
    expect(l.accelerate(0, 12)).toBe(true);
    expect(l.segLen(0, RCU_NEXT_READY_TAIL)).toBe(1);
    expect(l.readyCbs(0)).toBe(false);
    l.advance(0, 8);
    expect(l.segLen(0, RCU_DONE_TAIL)).toBe(2);
    expect(l.segLen(0, RCU_WAIT_TAIL)).toBe(1);
    expect(l.readyCbs(0)).toBe(true);
    expect(walk(m, l)).toEqual([head(0), head(1), head(2)]);
  });

  it('accelerate merges callbacks that need the same grace period into one segment', () => {
    const { l, head } = setup();
    l.enqueue(0, head(0), 0);
    l.accelerate(0, 8);
    l.enqueue(0, head(1), 0);
    expect(l.accelerate(0, 8)).toBe(true);
    expect(l.segLen(0, RCU_WAIT_TAIL)).toBe(2);
    expect(l.segLen(0, RCU_NEXT_READY_TAIL)).toBe(0);
    // Nothing is ready before an earlier grace period ends.
    l.advance(0, 4);
    expect(l.readyCbs(0)).toBe(false);
    // Everything already has a grace period: accelerate cannot do better.
    expect(l.accelerate(0, 12)).toBe(false);
  });

  it('extract_done and insert_done detach the ready callbacks and put back the rest', () => {
    const { m, l, head } = setup();
    for (let i = 0; i < 5; i++) l.enqueue(0, head(i), 0);
    l.accelerate(0, 4);
    l.advance(0, 4);
    const rcl = new RcuCbList();
    l.extractDone(0, rcl, 0);
    expect(rcl.len).toBe(5);
    expect(l.readyCbs(0)).toBe(false);
    expect(rcl.dequeue(m, 0)).toBe(head(0));
    expect(rcl.dequeue(m, 0)).toBe(head(1));
    l.enqueue(0, head(9), 0);
    l.insertDone(0, rcl, 0);
    expect(l.segLen(0, RCU_DONE_TAIL)).toBe(3);
    expect(walk(m, l)).toEqual([head(2), head(3), head(4), head(9)]);
  });

  it('entrain lands after every queued callback without needing a later grace period', () => {
    const { m, l, head } = setup();
    expect(l.entrain(0, head(50), 0)).toBe(false);
    l.enqueue(0, head(0), 0);
    l.accelerate(0, 8);
    expect(l.entrain(0, head(50), 0)).toBe(true);
    expect(l.segLen(0, RCU_WAIT_TAIL)).toBe(2);
    expect(walk(m, l)).toEqual([head(0), head(50)]);
  });

  it('property: the list in memory always holds every queued callback in order, segment lengths add up', () => {
    const op = fc.oneof(
      fc.constant({ t: 'enq' as const }),
      fc.integer({ min: 0, max: 6 }).map((g) => ({ t: 'acc' as const, g })),
      fc.integer({ min: 0, max: 6 }).map((g) => ({ t: 'adv' as const, g })),
      fc.constant({ t: 'run' as const }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const { m, l, head } = setup();
        const expected: number[] = [];
        let next = 0;
        let gp = 0;
        for (const o of ops) {
          if (o.t === 'enq') {
            const h = head(next++);
            l.enqueue(0, h, 0);
            expected.push(h);
          } else if (o.t === 'acc') {
            l.accelerate(0, (gp + o.g) * 4);
          } else if (o.t === 'adv') {
            gp += o.g;
            l.advance(0, gp * 4);
          } else {
            const rcl = new RcuCbList();
            l.extractDone(0, rcl, 0);
            const n = rcl.len;
            for (let i = 0; i < n; i++) expect(rcl.dequeue(m, 0)).toBe(expected.shift());
            l.addLen(0, -n);
          }
          expect(walk(m, l)).toEqual(expected);
          let sum = 0;
          for (let s = 0; s < 4; s++) sum += l.segLen(0, s);
          expect(sum).toBe(expected.length);
          expect(l.nCbs(0)).toBe(expected.length);
        }
      }),
      { numRuns: 150, seed: 7 },
    );
  });
});
