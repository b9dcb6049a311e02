#!/usr/bin/env node
// Count the host instructions one operation of each hot path executes, with
// valgrind's callgrind. Wall-clock rates on a shared host swing by up to 2x
// from one minute to the next; instruction counts of one build stay within
// about 1% from run to run (see the V8 flags below), so they show whether a
// change made a hot path cheaper. Each case runs twice
// under callgrind, once with a warm-up only and once with the warm-up plus N
// measured operations; the difference over N is the cost of one operation
// once the JIT has settled. With --top K, the K functions whose cost grew the
// most between the two runs are listed per operation (JIT code is named from
// node's --perf-basic-prof map).
// Usage: node scripts/bench-instr.mjs [--top K] [--node-flag F]... [case...]   (build first: `pnpm build`)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(fileURLToPath(import.meta.url), '../..');
const WARMUP = 200_000;
const MEASURED = 200_000;

/** Import a package's build by path (the root does not depend on the packages). */
async function pkg(name) {
  return import(pathToFileURL(join(ROOT, 'packages', name, 'dist', 'index.js')).href);
}

// Operations per call of a case's loop function. The loop is one function
// created once and called many times, so the JIT optimises it as a whole
// function (not by on-stack replacement of a loop entered once) and the
// per-operation figure does not depend on when tier-up happened.
const CHUNK = 1000;
// Objects per round of the kfree_rcu case (a divisor of WARMUP and MEASURED).
const ROUND = 20_000;

/**
 * Each case boots what it needs and returns `chunk()`, which performs CHUNK
 * operations of the hot path (or `chunk.ops` when it sets that).
 */
const CASES = {
  /** CacheModel.access(): L1 hits alternating between two lines. */
  'cache-l1-hit': async () => {
    const { CacheModel } = await pkg('cpu');
    const cm = new CacheModel(4);
    const site = cm.siteId('bench.l1');
    const sink = new Float64Array(1);
    return () => {
      let lat = 0;
      for (let i = 0; i < CHUNK; i++) lat += cm.access(0, 0x1000 + (i & 1) * 64, false, site);
      sink[0] += lat;
    };
  },
  /**
   * CacheModel.access(): L1 misses that hit L2, cycling loads over 256 KiB
   * (five times the default 48 KiB L1, an eighth of the 2 MiB L2).
   */
  'cache-l2-hit': async () => {
    const { CacheModel } = await pkg('cpu');
    const cm = new CacheModel(4);
    const site = cm.siteId('bench.l2');
    const sink = new Float64Array(1);
    let line = 0;
    return () => {
      let lat = 0;
      let l = line;
      for (let i = 0; i < CHUNK; i++) {
        lat += cm.access(0, 0x100000 + l * 64, false, site);
        l = (l + 1) & 4095;
      }
      line = l;
      sink[0] += lat;
    };
  },
  /** spin_lock() + spin_unlock(), lockdep off and on. */
  'lock-pair': async () => lockPair(false),
  'lock-pair-lockdep': async () => lockPair(true),
  /** alloc_pages(GFP_KERNEL, 0) + __free_pages() through the per-CPU lists. */
  'buddy-pcp-pair': async () => {
    const { createMachine } = await pkg('cpu');
    const { createLocking } = await pkg('locks');
    const { createPageAllocator } = await pkg('buddy');
    const { GFP_KERNEL } = await pkg('gfp');
    const m = createMachine({ nrCpus: 2, memBytes: 256 * 2 ** 20 });
    const a = createPageAllocator(m, createLocking(m, { lockdep: false }), { kswapd: false });
    const loop = () => {
      for (let i = 0; i < CHUNK; i++) a.freePages(a.allocPages(GFP_KERNEL, 0), 0);
    };
    return () => m.runOn(0, loop);
  },
  /**
   * 'buddy-pcp-pair' as packages/buddy/bench runs it: one loop factory makes
   * the loops of several kernels, so the compiler cannot fold the allocator
   * into the loop as a constant, the way a caller that holds it in a field
   * (the slab allocator) reaches it too. The first kernel's loop is measured.
   */
  'buddy-pcp-pair-shared': async () => {
    const { createMachine } = await pkg('cpu');
    const { createLocking } = await pkg('locks');
    const { createPageAllocator } = await pkg('buddy');
    const gfp = await pkg('gfp');
    const kernel = (buddy, lockdep) => {
      const m = createMachine({ nrCpus: 2, memBytes: 256 * 2 ** 20 });
      return { m, a: createPageAllocator(m, createLocking(m, { lockdep }), buddy) };
    };
    const pairs = (k, order) => () =>
      k.m.runOn(0, () => {
        const a = k.a;
        for (let i = 0; i < CHUNK; i++) a.freePages(a.allocPages(gfp.GFP_KERNEL, order), order);
      });
    const measured = pairs(kernel({ kswapd: false }, false), 0);
    pairs(kernel({ kswapd: false, zoneLock: 'full' }, false), 0);
    pairs(kernel({ kswapd: false }, true), 0);
    return measured;
  },
  /** kmalloc(64, GFP_KERNEL) + kfree() on the SLUB fast path. */
  'slub-kmalloc-pair': async () => {
    const { createMachine } = await pkg('cpu');
    const { createLocking } = await pkg('locks');
    const { GFP_KERNEL } = await pkg('gfp');
    const { createSimplePageAllocator, createSlabAllocator } = await pkg('slab');
    const m = createMachine({ nrCpus: 2, preempt: 'full', seed: 1 });
    const locking = createLocking(m, { lockdep: false });
    const pages = createSimplePageAllocator(m, { pages: 16384, locking });
    const slab = m.runOn(0, () => createSlabAllocator('slub', { machine: m, locking, pages }));
    const loop = () => {
      for (let i = 0; i < CHUNK; i++) slab.kfree(slab.kmalloc(64, GFP_KERNEL));
    };
    return () => m.runOn(0, loop);
  },
  /**
   * kfree_rcu() of objects from the test slab by four tasks on four CPUs,
   * through the batched (pointer-array) path until every object is back in
   * the slab: one operation is one object, end to end. As in @sim/rcu's
   * benchmark, each round frees 20 000 objects, so full pointer pages are
   * drained at once and only the last partial page waits out
   * KFREE_DRAIN_JIFFIES (5 s of idle simulated time, skipped in 2 ms steps).
   */
  'kfree-rcu-batched': async () => {
    const { createMachine } = await pkg('cpu');
    const { createLocking } = await pkg('locks');
    const { createRcu, TestObjectPool, TestPagePool, TestShrinkerRegistry } = await pkg('rcu');
    const m = createMachine({ nrCpus: 4, preempt: 'voluntary', seed: 1 });
    const locking = createLocking(m, { lockdep: false });
    const pool = new TestObjectPool(m, { capacity: 1 << 20, touchOnFree: true });
    const pages = new TestPagePool(m, locking, { pages: 8192 });
    const rcu = createRcu(
      { machine: m, locking, freer: pool, pages, shrinkers: new TestShrinkerRegistry() },
      { debugObjectsRcuHead: false, kfreeRcu: 'batched' },
    );
    const perCpu = ROUND / 4;
    const round = () => {
      const target = rcu.kvfreeStats().freed + ROUND;
      for (let c = 0; c < 4; c++) {
        m.spawn(
          function* () {
            for (let i = 0; i < perCpu; i++) {
              rcu.kfreeRcu(pool.alloc(), 0);
              if ((i & 255) === 255) yield m.sleep(20_000);
            }
          },
          { cpu: c, affinity: [c] },
        );
      }
      while (rcu.kvfreeStats().freed < target) m.runFor(2_000_000);
    };
    round.ops = ROUND;
    return round;
  },
};

async function lockPair(lockdep) {
  const { createMachine } = await pkg('cpu');
  const { createLocking } = await pkg('locks');
  const m = createMachine({ nrCpus: 2, preempt: 'full', seed: 1 });
  const s = createLocking(m, { lockdep }).spinLock('&bench->lock');
  const loop = () => {
    for (let i = 0; i < CHUNK; i++) {
      s.lock();
      s.unlock();
    }
  };
  return () => m.runOn(0, loop);
}

// ---- child: run one case ----------------------------------------------------------------

if (process.argv[2] === '--child') {
  const [, , , name, measured] = process.argv;
  const chunk = await CASES[name]();
  const ops = chunk.ops ?? CHUNK;
  for (let i = 0; i < WARMUP / ops; i++) chunk();
  if (measured === '1') for (let i = 0; i < MEASURED / ops; i++) chunk();
  process.exit(0);
}

// ---- parent: run each case under callgrind twice -------------------------------------------

const args = process.argv.slice(2);
let top = 0;
const topAt = args.indexOf('--top');
if (topAt >= 0) {
  top = Number(args[topAt + 1]);
  if (!(Number.isInteger(top) && top >= 1 && top <= 100)) {
    console.error(
      `bench-instr: --top ${args[topAt + 1]} is invalid: accepted an integer from 1 to 100`,
    );
    process.exit(2);
  }
  args.splice(topAt, 2);
}
// --node-flag F (repeatable) passes a V8 flag to the measured process, e.g.
// --max-inlined-bytecode-size-cumulative=4000 to see what a hot path would
// cost if the compiler inlined all of it.
const nodeFlags = [];
for (let at = args.indexOf('--node-flag'); at >= 0; at = args.indexOf('--node-flag')) {
  const flag = args[at + 1];
  if (typeof flag !== 'string' || !flag.startsWith('--')) {
    console.error(
      `bench-instr: --node-flag ${flag} is invalid: accepted a flag such as --max-inlined-bytecode-size-cumulative=4000`,
    );
    process.exit(2);
  }
  nodeFlags.push(flag);
  args.splice(at, 2);
}
const names = Object.keys(CASES);
const unknown = args.filter((a) => !names.includes(a));
if (unknown.length > 0) {
  console.error(`bench-instr: unknown case ${unknown.join(', ')}: accepted ${names.join(', ')}`);
  process.exit(2);
}
if (spawnSync('valgrind', ['--version']).status !== 0) {
  console.error('bench-instr: valgrind is not on PATH (Debian package valgrind)');
  process.exit(2);
}

/** Run one case under callgrind; returns total instructions and per-function costs. */
function callgrind(dir, name, measured) {
  const out = join(dir, `${name}.${measured}.cg`);
  const r = spawnSync(
    'valgrind',
    [
      '--tool=callgrind',
      `--callgrind-out-file=${out}`,
      process.execPath,
      // Compile on the main thread, with no other background work, so tier-up
      // happens at the same point every run.
      '--predictable',
      // The memory reducer collects on a wall-clock timer and bytecode flushing
      // ages functions by collections: either recompiles hot code at a moment
      // that differs between runs, which moved one build's figure by up to 10%.
      '--no-memory-reducer',
      '--no-flush-bytecode',
      // Without a fixed GC schedule the collections fall at moments that vary
      // from run to run, and V8 then splits a hot path into compiled units
      // differently: buddy-pcp-pair-shared read 2734, 3038 and 3414 in three
      // runs of one build, and 3035-3040 with this flag.
      '--predictable-gc-schedule',
      '--hash-seed=1',
      '--random-seed=1',
      ...nodeFlags,
      ...(top > 0 ? ['--perf-basic-prof', '--interpreted-frames-native-stack'] : []),
      fileURLToPath(import.meta.url),
      '--child',
      name,
      measured,
    ],
    { cwd: dir, encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`callgrind run of ${name} failed:\n${r.stderr}`);
  const total = Number(/Collected : (\d+)/.exec(r.stderr)?.[1]);
  const pid = /==(\d+)== Collected/.exec(r.stderr)?.[1];
  return { total, fns: top > 0 ? functionCosts(out, `/tmp/perf-${pid}.map`) : new Map() };
}

/** Self cost per function, JIT addresses named from the perf map. */
function functionCosts(file, mapFile) {
  const syms = [];
  try {
    for (const line of readFileSync(mapFile, 'utf8').split('\n')) {
      const m = /^([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(line);
      if (m) syms.push([Number.parseInt(m[1], 16), Number.parseInt(m[2], 16), m[3]]);
    }
    rmSync(mapFile, { force: true });
  } catch {
    // No map: JIT code stays unnamed.
  }
  syms.sort((a, b) => a[0] - b[0]);
  const nameOf = (addr) => {
    let lo = 0;
    let hi = syms.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (syms[mid][0] <= addr) lo = mid + 1;
      else hi = mid - 1;
    }
    const s = syms[hi];
    return s !== undefined && addr < s[0] + s[1] ? s[2] : null;
  };
  const r = spawnSync('callgrind_annotate', ['--threshold=100', file], {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  const costs = new Map();
  for (const line of r.stdout.split('\n')) {
    const m = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$/.exec(line);
    if (!m || m[2].includes('PROGRAM TOTALS')) continue;
    const addr = /0x([0-9a-f]+) \[\?\?\?\]/.exec(m[2]);
    const name = (addr && nameOf(Number.parseInt(addr[1], 16))) ?? m[2].replace(/^\?\?\?:/, '');
    costs.set(name, (costs.get(name) ?? 0) + Number(m[1].replaceAll(',', '')));
  }
  return costs;
}

const dir = mkdtempSync(join(tmpdir(), 'bench-instr-'));
try {
  const rows = [];
  for (const name of args.length > 0 ? args : names) {
    process.stderr.write(`callgrind: ${name}\n`);
    const base = callgrind(dir, name, '0');
    const full = callgrind(dir, name, '1');
    const perOp = (full.total - base.total) / MEASURED;
    rows.push({ case: name, 'instructions/op': Math.round(perOp) });
    if (top > 0) {
      const grown = [...full.fns]
        .map(([fn, ir]) => [fn, (ir - (base.fns.get(fn) ?? 0)) / MEASURED])
        .sort((a, b) => b[1] - a[1])
        .slice(0, top);
      console.log(`\n${name}: ${Math.round(perOp)} instructions/op`);
      for (const [fn, ir] of grown) {
        console.log(`${String(Math.round(ir)).padStart(8)}  ${fn.replace(/file:\/\/\S*\//, '')}`);
      }
    }
  }
  console.log();
  console.table(rows);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
