import { CacheModel } from '@sim/cpu';
import { bench, describe } from 'vitest';

// The cache model is charged on every simulated load and store, so its
// accesses/s bound the simulator's speed. Each case does OPS accesses per
// iteration: accesses/s = hz * OPS.
const OPS = 10_000;

function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

// Mixed workload on 4 CPUs, one random 8-byte word per access:
//   70% a per-CPU hot set of 16 KiB (L1-resident: per-CPU data, the stack),
//   20% a per-CPU warm set of 512 KiB (L2-resident: slabs being walked),
//    7% 4 KiB shared by all CPUs with 30% stores (locks, shared counters:
//       transfers and invalidations),
//    3% a 64 MiB cold region (LLC hits and DRAM misses).
// Other accesses store 10% of the time. Addresses above 2^32 are included so
// the wide-address path is exercised too.
const MIXED_LEN = 1 << 16;
const mixedCpu = new Uint8Array(MIXED_LEN);
const mixedAddr = new Float64Array(MIXED_LEN);
const mixedWrite = new Uint8Array(MIXED_LEN);
{
  const rnd = xorshift(42);
  const KiB = 1024;
  for (let i = 0; i < MIXED_LEN; i++) {
    const r = rnd();
    const cpu = r & 3;
    const pick = (r >>> 2) % 100;
    const word = rnd();
    const store = (r >>> 12) % 100;
    let addr: number;
    let write: boolean;
    if (pick < 70) {
      addr = cpu * 64 * KiB + (word % ((16 * KiB) / 8)) * 8;
      write = store < 10;
    } else if (pick < 90) {
      addr = 2 ** 28 + cpu * 1024 * KiB + (word % ((512 * KiB) / 8)) * 8;
      write = store < 10;
    } else if (pick < 97) {
      addr = 2 ** 29 + (word % ((4 * KiB) / 8)) * 8;
      write = store < 30;
    } else {
      addr = 2 ** 33 + (word % ((64 * 1024 * KiB) / 8)) * 8;
      write = store < 10;
    }
    mixedCpu[i] = cpu;
    mixedAddr[i] = addr;
    mixedWrite[i] = write ? 1 : 0;
  }
}

// Results go to a typed array so the work cannot be optimised away.
const sink = new Float64Array(1);

describe('cache model accesses', () => {
  const l1 = new CacheModel(8);
  const l1Site = l1.siteId('bench.l1');
  bench(`L1-hit loop, 16 KiB working set (x${OPS})`, () => {
    let lat = 0;
    for (let i = 0; i < OPS; i++) lat += l1.access(0, (i & 2047) * 8, (i & 7) === 0, l1Site);
    sink[0]! += lat;
  });

  const mixed = new CacheModel(4);
  const mixedSite = mixed.siteId('bench.mixed');
  let cursor = 0;
  bench(`mixed random working set, 4 CPUs (x${OPS})`, () => {
    let lat = 0;
    let c = cursor;
    for (let i = 0; i < OPS; i++) {
      lat += mixed.access(mixedCpu[c]!, mixedAddr[c]!, mixedWrite[c] === 1, mixedSite);
      c = (c + 1) & (MIXED_LEN - 1);
    }
    cursor = c;
    sink[0]! += lat;
  });

  const pingPong = new CacheModel(2);
  const ppSite = pingPong.siteId('bench.pingpong');
  bench(`two-CPU ping-pong on one line (x${OPS})`, () => {
    let lat = 0;
    for (let i = 0; i < OPS; i++) lat += pingPong.access(i & 1, 4096, true, ppSite);
    sink[0]! += lat;
  });
});
