#!/usr/bin/env node
// Run every package's benchmarks several times and print, per case, the
// median and the best rate over the runs, and the median of each run's
// fastest iteration. On a shared host one run can land in a stretch where
// everything is up to 2x slower, so targets are read off the median of
// several runs, with the bare-heap baseline of @sim/cpu for the machine's
// state. Before each package an ALU probe is timed; its ratio to the fastest
// probe of the session shows how contended the core was.
// Usage: node scripts/bench-repeat.mjs [runs=5] [package...] (build first:
// `pnpm build`). Writes bench-results/repeat.json at the root, with each
// case's rate in every run (runHz) beside the summary.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PACKAGES = ['cpu', 'locks', 'buddy', 'slab', 'rcu'];
const args = process.argv.slice(2);
const runs = args.length > 0 && /^\d+$/.test(args[0]) ? Number(args.shift()) : 5;
if (!(runs >= 1 && runs <= 50)) {
  console.error(`bench-repeat: runs = ${runs} is invalid: accepted an integer from 1 to 50`);
  process.exit(2);
}
const unknown = args.filter((p) => !PACKAGES.includes(p));
if (unknown.length > 0) {
  console.error(
    `bench-repeat: unknown package ${unknown.join(', ')}: accepted ${PACKAGES.join(', ')}`,
  );
  process.exit(2);
}
const packages = args.length > 0 ? args : PACKAGES;

// The ALU probe: six independent integer chains. Alone on a core they retire
// several instructions a cycle, so they slow when another thread shares the
// core's execution ports, as the simulator's hot paths do (a latency-bound
// loop barely notices). They run in calls of 50 000 steps, so the compiler
// optimises the function as a whole (a single long loop ran at 0.57, 1.2 or
// 3.1 ms from one process to the next), and the results are combined with
// xor, so they stay int32 and nothing deoptimises.
function chains(n) {
  let a = 0;
  let b = 1;
  let c = 2;
  let d = 3;
  let e = 4;
  let f = 5;
  for (let i = 0; i < n; i++) {
    a = (a + i) | 0;
    b = (b ^ i) | 0;
    c = (c + (i << 1)) | 0;
    d = (d | i) & 0xffff;
    e = (e - i) | 0;
    f = (f ^ (i >>> 1)) | 0;
  }
  return a ^ b ^ c ^ d ^ e ^ f;
}
let probeSink = 0; // written out with the results, so no loop can be dropped

/** The ALU probe: the fastest of five timings of 40 x 50 000 steps, in ms. */
function probeMs() {
  let best = Number.POSITIVE_INFINITY;
  for (let k = 0; k < 5; k++) {
    const t0 = performance.now();
    for (let call = 0; call < 40; call++) probeSink ^= chains(50_000);
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}
for (let k = 0; k < 50; k++) probeSink ^= chains(50_000); // optimised before it counts

const dir = mkdtempSync(join(tmpdir(), 'bench-repeat-'));
/** @type {Map<string, {pkg: string, name: string, hz: number[], fastHz: number[]}>} */
const cases = new Map();
/** @type {{run: number, package: string, probeMs: number}[]} */
const probes = [];
try {
  for (let i = 1; i <= runs; i++) {
    for (const pkg of packages) {
      const out = join(dir, `${pkg}-${i}.json`);
      const ms = probeMs();
      probes.push({ run: i, package: pkg, probeMs: ms });
      process.stderr.write(`run ${i}/${runs}: @sim/${pkg} (ALU probe ${ms.toFixed(2)} ms)\n`);
      const r = spawnSync(
        'npx',
        ['vitest', 'bench', '--run', '--config', 'vitest.bench.config.ts', '--outputJson', out],
        { cwd: join('packages', pkg), stdio: ['ignore', 'ignore', 'inherit'] },
      );
      if (r.status !== 0) {
        console.error(`bench-repeat: the benchmarks of @sim/${pkg} failed (exit ${r.status})`);
        process.exit(1);
      }
      const doc = JSON.parse(readFileSync(out, 'utf8'));
      for (const file of doc.files) {
        for (const group of file.groups) {
          for (const b of group.benchmarks) {
            const key = `${pkg}\u0000${group.fullName}\u0000${b.name}`;
            const c = cases.get(key) ?? { pkg, name: b.name, hz: [], fastHz: [] };
            c.hz.push(b.hz);
            // `min` is the fastest iteration in ms: iterations per second at that pace.
            c.fastHz.push(1000 / b.min);
            cases.set(key, c);
          }
        }
      }
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const rows = [...cases.values()].map((c) => ({
  package: c.pkg,
  case: c.name,
  runs: c.hz.length,
  medianHz: median(c.hz),
  bestHz: Math.max(...c.hz),
  worstHz: Math.min(...c.hz),
  medianFastestHz: median(c.fastHz),
  runHz: c.hz,
}));
const probeBest = Math.min(...probes.map((p) => p.probeMs));
const fmt = (x) => x.toFixed(x >= 100 ? 0 : 2).padStart(12);
console.log(
  `${'package'.padEnd(8)}${'case'.padEnd(72)}${'median hz'.padStart(12)}${'best hz'.padStart(12)}${'worst hz'.padStart(12)}${'fastest-it hz'.padStart(14)}`,
);
for (const r of rows) {
  console.log(
    `${r.package.padEnd(8)}${r.case.slice(0, 70).padEnd(72)}${fmt(r.medianHz)}${fmt(r.bestHz)}${fmt(r.worstHz)}${fmt(r.medianFastestHz).padStart(14)}`,
  );
}
console.log(
  `ALU probe before each package, as a multiple of the fastest (${probeBest.toFixed(2)} ms): ${probes
    .map((p) => `${p.package}#${p.run} ${(p.probeMs / probeBest).toFixed(2)}x`)
    .join(', ')}`,
);
mkdirSync('bench-results', { recursive: true });
writeFileSync(
  join('bench-results', 'repeat.json'),
  `${JSON.stringify({ runs, rows, probes, probeSink }, null, 2)}\n`,
);
