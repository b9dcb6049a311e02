import { bench, describe } from 'vitest';

// Machine baselines, no simulator code: a bare binary heap of Float64 keys in
// the same hold model as events.bench.ts, and a random walk over 4 MiB of
// typed arrays. The event and cache targets were set against the heap loop
// (about 10 M/s with 64 pending, 1-4 M/s with 64 k); on a shared host both
// baselines move with the neighbours' load, so read the simulator's figures
// against them, from the same run.
const BATCH = 1000;
const DELAYS = new Float64Array(4096);
for (let i = 0, x = 12345; i < DELAYS.length; i++) {
  x = (Math.imul(x, 1103515245) + 12345) >>> 0;
  DELAYS[i] = 1 + (x % 100_000);
}

class BareHeap {
  readonly keys: Float64Array;
  size = 0;
  constructor(capacity: number) {
    this.keys = new Float64Array(capacity);
  }
  push(key: number): void {
    const a = this.keys;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]! <= key) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = key;
  }
  pop(): number {
    const a = this.keys;
    const top = a[0]!;
    const last = a[--this.size]!;
    const n = this.size;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && a[child + 1]! < a[child]!) child++;
      if (a[child]! >= last) break;
      a[i] = a[child]!;
      i = child;
    }
    a[i] = last;
    return top;
  }
}

describe('machine baselines (x1000 per iteration)', () => {
  for (const pending of [64, 65_536]) {
    const h = new BareHeap(pending + 1);
    for (let i = 0; i < pending; i++) h.push(DELAYS[i % 4096]!);
    let k = 0;
    bench(`bare heap pop+push, ${pending} pending`, () => {
      for (let i = 0; i < BATCH; i++) h.push(h.pop() + DELAYS[k++ & 4095]!);
    });
  }

  const words = new Float64Array(1 << 19);
  const sink = new Float64Array(1);
  let x = 1;
  bench('random read-modify-write over a 4 MiB Float64Array', () => {
    let acc = 0;
    for (let i = 0; i < BATCH; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      const j = x & ((1 << 19) - 1);
      acc += words[j]!;
      words[j] = acc % 7;
    }
    sink[0]! += acc;
  });
});
