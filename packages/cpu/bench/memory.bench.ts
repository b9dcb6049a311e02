import { PhysicalMemory } from '@sim/cpu';
import { bench, describe } from 'vitest';

// Every simulated load/store of a kernel data structure in memory (freelist
// pointers, rcu_head chains) is a PhysicalMemory word access. Each case does
// OPS accesses per iteration: accesses/s = hz * OPS.
const OPS = 10_000;
const sink = new Float64Array(1);

describe('physical memory words', () => {
  const small = new PhysicalMemory(512 * 1024 * 1024);
  for (let a = 0; a < 1024 * 1024; a += 8) small.write(a, a);
  bench(`read+write, 1 MiB touched, 512 MiB machine (x${OPS})`, () => {
    let acc = 0;
    for (let i = 0; i < OPS; i++) {
      const addr = ((i * 8191) & 0x1ffff) * 8;
      acc += small.read(addr);
      small.write(addr, i);
    }
    sink[0]! += acc;
  });

  const big = new PhysicalMemory(2 ** 40);
  const base = 2 ** 36;
  for (let a = 0; a < 1024 * 1024; a += 8) big.write(base + a, a);
  bench(`read+write above 2^32, 1 TiB machine (x${OPS})`, () => {
    let acc = 0;
    for (let i = 0; i < OPS; i++) {
      const addr = base + ((i * 8191) & 0x1ffff) * 8;
      acc += big.read(addr);
      big.write(addr, i);
    }
    sink[0]! += acc;
  });
});
