import { createMachine, type Machine, type PreemptModel } from '@sim/cpu';
import { createLocking, type Locking } from '@sim/locks';
import { afterEach, expect } from 'vitest';
import {
  createManualRcuPort,
  createSimplePageAllocator,
  createSlabAllocator,
  type ManualRcuPort,
  type SheavesOptions,
  type SimplePageAllocator,
  type SlabAllocator,
  type SlabAllocatorName,
} from '../src/index.js';

/** What a test boots: the machine, its locks, a page pool, a hand-driven RCU and the allocator. */
export interface Booted {
  m: Machine;
  locking: Locking;
  pages: SimplePageAllocator;
  rcu: ManualRcuPort;
  slab: SlabAllocator;
}

/** Options of {@link boot}. */
export interface BootOptions {
  nrCpus?: number;
  preempt?: PreemptModel;
  pages?: number;
  lockdep?: boolean;
  seed?: number;
  slab?: SheavesOptions;
}

/** Boot a machine with the named slab allocator, as the reference kernel wires them. */
export function boot(design: SlabAllocatorName, o: BootOptions = {}): Booted {
  const m = createMachine({
    nrCpus: o.nrCpus ?? 2,
    preempt: o.preempt ?? 'full',
    seed: o.seed ?? 1,
  });
  const locking = createLocking(m, { lockdep: o.lockdep ?? true });
  const pages = createSimplePageAllocator(m, { pages: o.pages ?? 4096, locking });
  const rcu = createManualRcuPort();
  const slab = m.runOn(0, () =>
    createSlabAllocator(design, { machine: m, locking, pages, rcu }, o.slab),
  );
  return { m, locking, pages, rcu, slab };
}

/** Report kinds logged so far. */
export function kinds(m: Machine): string[] {
  return m.reports().map((r) => r.kind);
}

/** The invariant checker must find nothing, and every slab page must be allocated in the pool. */
export function expectSound(b: Booted): void {
  expect(b.slab.checkInvariants()).toEqual([]);
  const st = b.slab.stats();
  expect(b.pages.stats().allocated).toBe(st.pages.outstanding);
}

/** Both built-in designs. */
export const DESIGNS: readonly SlabAllocatorName[] = ['slub', 'sheaves'];

const booted: Booted[] = [];

/** Boot, and have the invariant checker run on it after the test (see {@link checkAfterEach}). */
export function bootChecked(design: SlabAllocatorName, o: BootOptions = {}): Booted {
  const b = boot(design, o);
  booted.push(b);
  return b;
}

/** Register the after-each invariant check of every {@link bootChecked} machine of this file. */
export function checkAfterEach(): void {
  afterEach(() => {
    const list = booted.splice(0);
    for (const b of list) expectSound(b);
  });
}

/** Run `fn` in task context on CPU `cpu`. */
export function onCpu<T>(b: Booted, cpu: number, fn: () => T): T {
  return b.m.runOn(cpu, fn);
}
