import {
  type BuddyAllocator,
  type BuddyOptions,
  createPageAllocator,
  NUMA_NO_NODE,
} from '@sim/buddy';
import { createMachine, type Machine, type MachineConfig } from '@sim/cpu';
import { GFP_KERNEL } from '@sim/gfp';
import { createLocking, type LockingOptions } from '@sim/locks';
import { bench, describe } from 'vitest';

interface Kernel {
  readonly m: Machine;
  readonly a: BuddyAllocator;
}

/** A 2-CPU machine with locking and the page allocator, as the tests boot it. */
function boot(machine: MachineConfig, buddy: BuddyOptions, locks: LockingOptions): Kernel {
  const m = createMachine({ nrCpus: 2, ...machine });
  return { m, a: createPageAllocator(m, createLocking(m, locks), buddy) };
}

// Each case does OPS operations per iteration: operations/s = hz x OPS.
const OPS = 10_000;
const MiB = 2 ** 20;

function pairs(k: Kernel, order: number): () => void {
  return () => {
    k.m.runOn(0, () => {
      const a = k.a;
      for (let i = 0; i < OPS; i++) a.freePages(a.allocPages(GFP_KERNEL, order)!, order);
    });
  };
}

describe('order-0 alloc+free pairs', () => {
  bench(
    `per-CPU lists, v6.15 locking, lockdep off (x${OPS})`,
    pairs(boot({ memBytes: 256 * MiB }, { kswapd: false }, { lockdep: false }), 0),
  );
  bench(
    `per-CPU lists, 2020 locking (irq-off lists), lockdep off (x${OPS})`,
    pairs(
      boot({ memBytes: 256 * MiB }, { kswapd: false, zoneLock: 'full' }, { lockdep: false }),
      0,
    ),
  );
  bench(
    `per-CPU lists, v6.15 locking, struct page not charged (x${OPS})`,
    pairs(
      boot({ memBytes: 256 * MiB }, { kswapd: false, vmemmapCost: 'none' }, { lockdep: false }),
      0,
    ),
  );
  bench(
    `per-CPU lists, v6.15 locking, lockdep on (x${OPS})`,
    pairs(boot({ memBytes: 256 * MiB }, { kswapd: false }, { lockdep: true }), 0),
  );
  bench(
    `zone only (per-CPU lists off), lockdep off (x${OPS})`,
    pairs(boot({ memBytes: 256 * MiB }, { kswapd: false, pcp: false }, { lockdep: false }), 0),
  );
  const nolock = boot({ memBytes: 256 * MiB }, { kswapd: false }, { lockdep: false });
  bench(`alloc_pages_nolock + free_pages_nolock (x${OPS})`, () => {
    nolock.m.runOn(0, () => {
      const a = nolock.a;
      for (let i = 0; i < OPS; i++) a.freePagesNolock(a.allocPagesNolock(0, NUMA_NO_NODE, 0)!, 0);
    });
  });
});

describe('higher orders', () => {
  bench(
    `order-3 pairs through per-CPU lists (x${OPS})`,
    pairs(boot({ memBytes: 256 * MiB }, { kswapd: false }, { lockdep: false }), 3),
  );
  bench(
    `order-5 pairs through the buddy (x${OPS})`,
    pairs(boot({ memBytes: 256 * MiB }, { kswapd: false }, { lockdep: false }), 5),
  );
});

describe('reclaim-heavy', () => {
  // A page-cache reader streaming through a 64 MiB machine: every fault past
  // the first ~15000 needs direct reclaim of older cache pages.
  const k = boot({ memBytes: 64 * MiB }, { kswapd: false }, { lockdep: false });
  const reader = k.a.createWorkload({ kind: 'file', comm: 'reader' });
  bench(`page-cache faults under direct reclaim (x${OPS})`, () => {
    k.m.runOn(0, () => reader.fault(OPS));
  });
});
