import { createMachine, type Machine, missesOf } from '@sim/cpu';
import { GFP_KERNEL } from '@sim/gfp';
import { createLocking } from '@sim/locks';
import {
  createSimplePageAllocator,
  createSlabAllocator,
  type SlabAllocator,
  type SlabAllocatorName,
} from '@sim/slab';
import { bench, describe } from 'vitest';

// Each benchmark op runs a batch inside one runOn(); figures per pair or per
// object are the op rate times the batch size.
const PAIRS = 1000;
const BULK = 256;
const DESIGNS: readonly SlabAllocatorName[] = ['slub', 'sheaves'];

interface Rig {
  m: Machine;
  slab: SlabAllocator;
}

function setup(design: SlabAllocatorName, lockdep: boolean, nrCpus = 2): Rig {
  const m = createMachine({ nrCpus, preempt: 'full', seed: 1 });
  const locking = createLocking(m, { lockdep });
  const pages = createSimplePageAllocator(m, { pages: 16384, locking });
  const slab = m.runOn(0, () => createSlabAllocator(design, { machine: m, locking, pages }));
  // Warm the CPU slab or the sheaves.
  m.runOn(0, () => slab.kfree(slab.kmalloc(64, GFP_KERNEL)));
  return { m, slab };
}

const ptrs = new Float64Array(BULK);

/** A mixed workload: sizes from 8 to 4096, frees on the other CPU for a third of the objects. */
function mixed(r: Rig, rounds: number): void {
  const { m, slab } = r;
  for (let round = 0; round < rounds; round++) {
    m.runOn(0, () => {
      for (let i = 0; i < BULK; i++) ptrs[i] = slab.kmalloc(8 << (i % 10), GFP_KERNEL);
      for (let i = 0; i < BULK; i++) if (i % 3 !== 0) slab.kfree(ptrs[i]!);
    });
    m.runOn(1, () => {
      for (let i = 0; i < BULK; i += 3) slab.kfree(ptrs[i]!);
    });
  }
}

describe(`kmalloc(64)+kfree fast path (${PAIRS} pairs per op)`, () => {
  for (const design of DESIGNS) {
    for (const lockdep of [false, true]) {
      const { m, slab } = setup(design, lockdep);
      const loop = (): void => {
        for (let i = 0; i < PAIRS; i++) slab.kfree(slab.kmalloc(64, GFP_KERNEL));
      };
      bench(`${design}, lockdep ${lockdep ? 'on' : 'off'}`, () => {
        m.runOn(0, loop);
      });
    }
  }
});

describe(`kfree_bulk() vs kfree() (${BULK} kmalloc(64) objects per op)`, () => {
  for (const design of DESIGNS) {
    const { m, slab } = setup(design, false);
    const fill = (): void => {
      for (let i = 0; i < BULK; i++) ptrs[i] = slab.kmalloc(64, GFP_KERNEL);
    };
    bench(`${design}: ${BULK} x kmalloc + kfree_bulk(${BULK})`, () => {
      m.runOn(0, () => {
        fill();
        slab.kfreeBulk(ptrs, BULK);
      });
    });
    bench(`${design}: ${BULK} x kmalloc + ${BULK} x kfree`, () => {
      m.runOn(0, () => {
        fill();
        for (let i = 0; i < BULK; i++) slab.kfree(ptrs[i]!);
      });
    });
  }
});

describe(`SLUB vs sheaves: mixed sizes, cross-CPU frees (${BULK} objects per op)`, () => {
  for (const design of DESIGNS) {
    const r = setup(design, false);
    bench(design, () => mixed(r, 1));
  }
});

// Cache misses per operation (DRAM misses + transfers, as `missesOf()` counts
// them) are a simulation result, the same on every host: measured once here.
function missesPerOp(design: SlabAllocatorName, work: (r: Rig) => number): string {
  const r = setup(design, false);
  work(r);
  r.m.cache.resetStats();
  const ops = work(r);
  const t = r.m.cache.stats().totals;
  const l1 = (t.accesses - t.l1Hits) / ops;
  return `${design}: ${(missesOf(t) / ops).toFixed(3)} misses/op (${(t.transfers / ops).toFixed(3)} transfers), ${l1.toFixed(3)} L1 misses/op, ${(t.accesses / ops).toFixed(1)} accesses/op`;
}

const lines = [
  'cache misses per operation (simulated, host-independent):',
  ...DESIGNS.map((d) =>
    missesPerOp(d, (r) => {
      r.m.runOn(0, () => {
        for (let i = 0; i < 10000; i++) r.slab.kfree(r.slab.kmalloc(64, GFP_KERNEL));
      });
      return 20000;
    }),
  ).map((s) => `  kmalloc(64)+kfree, per call: ${s}`),
  ...DESIGNS.map((d) =>
    missesPerOp(d, (r) => {
      mixed(r, 40);
      return 40 * BULK * 2;
    }),
  ).map((s) => `  mixed cross-CPU workload, per call: ${s}`),
];
console.log(lines.join('\n'));
