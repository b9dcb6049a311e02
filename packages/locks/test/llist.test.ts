import { describe, expect, it } from 'vitest';
import { boot } from './fixtures/machine.js';

describe('llist', () => {
  function nodes(m: ReturnType<typeof boot>['m'], n: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(m.memory.memblockAlloc(64, 64));
    return out;
  }

  function walk(head: { next(n: number): number }, first: number): number[] {
    const out: number[] = [];
    for (let n = first; n !== 0; n = head.next(n)) out.push(n);
    return out;
  }

  it('llist_add() returns true only for the first add after llist_del_all()', () => {
    const { m, l } = boot('none');
    const head = l.llistHead('defer');
    const [a, b, c] = nodes(m, 3) as [number, number, number];
    m.runOn(0, () => {
      expect(head.empty()).toBe(true);
      expect(head.add(a)).toBe(true);
      expect(head.add(b)).toBe(false);
      expect(walk(head, head.delAll())).toEqual([b, a]); // newest first
      expect(head.add(c)).toBe(true);
    });
  });

  it('llist_reverse_order() gives FIFO order and llist_del_first() pops the newest', () => {
    const { m, l } = boot('none');
    const head = l.llistHead('q');
    const ns = nodes(m, 4);
    m.runOn(0, () => {
      for (const n of ns) head.add(n);
      expect(head.delFirst()).toBe(ns[3]);
      expect(walk(head, head.reverseOrder(head.delAll()))).toEqual(ns.slice(0, 3));
      expect(head.delFirst()).toBe(0);
    });
  });

  it('an NMI that adds between the read and the cmpxchg makes the adder retry; nothing is lost', () => {
    const { m, l } = boot('none');
    const head = l.llistHead('nmi-safe');
    const [a, b, c] = nodes(m, 3) as [number, number, number];
    m.injectNmi('llist.add', { nth: 2 }, () => {
      head.add(c);
    });
    m.runOn(0, () => {
      head.add(a);
      head.add(b); // the NMI fires inside this add
    });
    expect(walk(head, head.delAll()).sort()).toEqual([a, b, c].sort());
  });

  it('adds from two CPUs bounce the head line', () => {
    const { m, l } = boot('none');
    const head = l.llistHead('shared');
    const ns = nodes(m, 8);
    ns.forEach((n, i) => {
      m.runOn(i % 2, () => {
        head.add(n);
      });
    });
    const row = m.cache.siteStats().find((r) => r.label === 'llist:shared')!;
    expect(row.transfers).toBeGreaterThan(4);
  });
});
