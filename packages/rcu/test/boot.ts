import { createMachine, type Machine, type MachineConfig, type Task, type Wait } from '@sim/cpu';
import { createLocking, type Locking } from '@sim/locks';
import { afterEach, expect } from 'vitest';
import {
  createRcu,
  type Rcu,
  type RcuOptions,
  TestObjectPool,
  type TestObjectPoolOptions,
  TestPagePool,
  TestRcuSheaf,
  TestShrinkerRegistry,
} from '../src/index.js';

export const MS = 1_000_000;
export const US = 1_000;

export interface Kernel {
  readonly m: Machine;
  readonly locking: Locking;
  readonly pool: TestObjectPool;
  readonly pages: TestPagePool;
  readonly shrinkers: TestShrinkerRegistry;
  readonly sheaf: TestRcuSheaf;
  readonly rcu: Rcu;
  /** Invariants a test breaks on purpose, skipped by the after-each check. */
  readonly allow: { oracle?: boolean; kasan?: boolean; all?: boolean };
}

export interface BootOptions {
  readonly machine?: MachineConfig;
  readonly rcu?: RcuOptions;
  readonly pool?: TestObjectPoolOptions;
  readonly pages?: number;
  readonly lockdep?: boolean;
}

const booted: Kernel[] = [];

/** Boot a machine with locking, the test allocators and RCU. */
export function boot(opts: BootOptions = {}): Kernel {
  const k = bootKernel(opts);
  boot.last = k;
  booted.push(k);
  return k;
}

/**
 * Invariants checked after every test on every kernel it booted: no grace
 * period ended under a reader (oracle), no object used after its free
 * (KASAN-checked loads), every page the page allocator handed out is held by
 * kvfree_rcu (in use or cached), and no object is both free and pending.
 */
export function checkInvariants(k: Kernel): void {
  if (k.allow.all === true) return;
  const { rcu, pool, pages } = k;
  if (rcu.oracle !== null && k.allow.oracle !== true) expect(rcu.oracle.violations).toEqual([]);
  if (k.allow.kasan !== true) expect(pool.kasanReports).toBe(0);
  const s = rcu.kvfreeStats();
  expect(pages.inUse).toBe(s.pagesInUse + s.pagesCached);
  expect(s.pending).toBeGreaterThanOrEqual(0);
  expect(s.freed + s.pending + s.leaked + s.sheafQueued).toBe(s.queued);
}

afterEach(() => {
  const ks = booted.splice(0);
  for (const k of ks) checkInvariants(k);
});
/** The kernel booted last (for task bodies written before `boot()` returns). */
boot.last = null as Kernel | null;

function bootKernel(opts: BootOptions): Kernel {
  const m = createMachine({ nrCpus: 4, ...(opts.machine ?? {}) });
  const locking = createLocking(m, { lockdep: opts.lockdep ?? true });
  const pool = new TestObjectPool(m, opts.pool ?? {});
  const pages = new TestPagePool(m, locking, { pages: opts.pages ?? 4096 });
  const shrinkers = new TestShrinkerRegistry();
  const sheaf = new TestRcuSheaf(m, pool);
  const rcu = createRcu(
    { machine: m, locking, freer: pool, pages, shrinkers, sheaf },
    opts.rcu ?? {},
  );
  sheaf.attach(rcu);
  return { m, locking, pool, pages, shrinkers, sheaf, rcu, allow: {} };
}

/** Spawn a task running `body` on `cpu`. */
export function task(
  m: Machine,
  body: (self: Task) => Generator<Wait<unknown>, unknown, unknown>,
  opts: { cpu?: number; comm?: string; prio?: number } = {},
): Task {
  return m.spawn(body, {
    comm: opts.comm ?? 'test',
    ...(opts.cpu === undefined ? {} : { cpu: opts.cpu, affinity: [opts.cpu] }),
    ...(opts.prio === undefined ? {} : { prio: opts.prio }),
  });
}

export function kinds(m: Machine): string[] {
  return m.reports().map((r) => r.kind);
}
