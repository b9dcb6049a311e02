// The example of README.md, kept runnable.
import { createMachine } from '@sim/cpu';
import { GFP_ATOMIC, GFP_KERNEL } from '@sim/gfp';
import { createLocking } from '@sim/locks';
import { afterEach, expect, it } from 'vitest';
import { checkBuddyInvariants, createPageAllocator } from '../src/index.js';
import { checkAllInvariants } from './fixtures/machine.js';

afterEach(checkAllInvariants);

it('the README example runs', () => {
  // --- README example start
  const machine = createMachine({ nrCpus: 2, memBytes: 64 * 2 ** 20, seed: 1 });
  const locking = createLocking(machine);
  const mm = createPageAllocator(machine, locking); // zones, watermarks, per-CPU lists, kswapd0

  // Allocate and free in task context on CPU 0.
  const page = machine.runOn(0, () => mm.allocPages(GFP_KERNEL, 2)); // first pfn of 4 pages, or NO_PAGE (-1)
  console.log(mm.pageAddress(page), mm.buddyinfo());
  machine.runOn(0, () => mm.freePages(page, 2));

  // A process fills memory with anonymous pages; a kernel allocation then
  // reclaims, finds nothing to reclaim, and the OOM killer kills it.
  const hog = mm.spawnWorkload({ kind: 'anon', pages: 15_000, comm: 'hog' });
  machine.runFor(1e9);
  machine.runOn(0, () => {
    for (let i = 0; i < 2000; i++) mm.allocPages(GFP_KERNEL, 0);
  });
  console.log(machine.dmesg()); // "... invoked oom-killer ...", "Out of memory: Killed process ..."
  console.log(mm.events().oomKill, hog.oomVictim); // 1 true

  // Under a raw spinlock with an empty per-CPU list, 2020's locking would
  // take zone->lock and lockdep would say "BUG: Invalid wait context".
  const old = createMachine({ nrCpus: 2, memBytes: 64 * 2 ** 20 });
  const oldLocking = createLocking(old);
  const oldMm = createPageAllocator(old, oldLocking, { zoneLock: 'full' });
  const raw = oldLocking.rawSpinLock('krcp->lock');
  old.runOn(0, () => {
    raw.lock();
    oldMm.allocPages(GFP_ATOMIC, 0);
    raw.unlock();
  });
  console.log(old.reports({ kind: 'lockdep-invalid-wait-context' }).length); // 1
  console.log(checkBuddyInvariants(mm).ok); // true
  // --- README example end

  expect(mm.events().oomKill).toBe(1);
  expect(hog.oomVictim).toBe(true);
  expect(old.reports({ kind: 'lockdep-invalid-wait-context' })).toHaveLength(1);
  expect(checkBuddyInvariants(mm).ok).toBe(true);
  expect(checkBuddyInvariants(oldMm).ok).toBe(true);
});
