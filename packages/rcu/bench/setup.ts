import { createMachine, type Machine } from '@sim/cpu';
import { createLocking } from '@sim/locks';
import {
  createRcu,
  type Rcu,
  type RcuOptions,
  TestObjectPool,
  TestPagePool,
  TestShrinkerRegistry,
} from '@sim/rcu';

/**
 * A machine with RCU and the test allocators, configured like a production
 * build: lockdep and CONFIG_DEBUG_OBJECTS_RCU_HEAD off. With
 * `touchOnFree: false` the test slab frees objects without writing a free
 * pointer into them.
 */
export function bootBench(
  rcu: RcuOptions = {},
  nrCpus = 4,
  touchOnFree = true,
): { m: Machine; rcu: Rcu; pool: TestObjectPool } {
  const m = createMachine({ nrCpus, preempt: 'voluntary', seed: 1 });
  const locking = createLocking(m, { lockdep: false });
  const pool = new TestObjectPool(m, { capacity: 1 << 20, touchOnFree });
  const pages = new TestPagePool(m, locking, { pages: 8192 });
  const r = createRcu(
    { machine: m, locking, freer: pool, pages, shrinkers: new TestShrinkerRegistry() },
    { debugObjectsRcuHead: false, ...rcu },
  );
  return { m, rcu: r, pool };
}
