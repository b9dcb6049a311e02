#!/usr/bin/env node
// Run every package's benchmarks several times and print, per case, the
// median and the best rate over the runs. On a shared host one run can land
// in a stretch where everything is up to 2x slower, so targets are read off
// the median of several runs, with the bare-heap baseline of @sim/cpu for
// the machine's state. Usage: node scripts/bench-repeat.mjs [runs=5] [package...]
// (build first: `pnpm build`). Writes bench-results/repeat.json at the root.
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

const dir = mkdtempSync(join(tmpdir(), 'bench-repeat-'));
/** @type {Map<string, {pkg: string, name: string, hz: number[]}>} */
const cases = new Map();
try {
  for (let i = 1; i <= runs; i++) {
    for (const pkg of packages) {
      const out = join(dir, `${pkg}-${i}.json`);
      process.stderr.write(`run ${i}/${runs}: @sim/${pkg}\n`);
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
            const c = cases.get(key) ?? { pkg, name: b.name, hz: [] };
            c.hz.push(b.hz);
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
}));
const fmt = (x) => x.toFixed(x >= 100 ? 0 : 2).padStart(12);
console.log(
  `${'package'.padEnd(8)}${'case'.padEnd(72)}${'median hz'.padStart(12)}${'best hz'.padStart(12)}${'worst hz'.padStart(12)}`,
);
for (const r of rows) {
  console.log(
    `${r.package.padEnd(8)}${r.case.slice(0, 70).padEnd(72)}${fmt(r.medianHz)}${fmt(r.bestHz)}${fmt(r.worstHz)}`,
  );
}
mkdirSync('bench-results', { recursive: true });
writeFileSync(join('bench-results', 'repeat.json'), `${JSON.stringify({ runs, rows }, null, 2)}\n`);
