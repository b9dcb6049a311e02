import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/index.js';

const USER = join(import.meta.dirname, 'fixtures', 'lock-bounce.scenario.ts');

async function cli(...argv: string[]) {
  let out = '';
  let err = '';
  const status = await runCli(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { status, out, err };
}

describe('reference-kernel run / compare / list', () => {
  it('runs a user scenario module by path and prints the verdict first', async () => {
    const r = await cli('run', USER, '--small');
    expect(r.status).toBe(0);
    expect(r.out.split('\n')[0]).toBe(
      'lock-bounce: How often does a shared spinlock line bounce between CPUs?',
    );
    expect(r.out.split('\n')[1]).toMatch(
      /^verdict: OK: \d+ line transfers in 50 acquisitions on 2 CPUs$/,
    );
    expect(r.out).toMatch(/cache-line transfers\s+\d+/);
    expect(r.out).toContain('cmdline: nr_cpus=2 mem=64M');
  });

  it('gives byte-identical JSON for the same seed, and a documented schema', async () => {
    const a = await cli('run', USER, '--small', '--json', '--seed', '7');
    const b = await cli('run', USER, '--small', '--json', '--seed', '7');
    expect(a.out).toBe(b.out);
    const doc = JSON.parse(a.out);
    expect(doc.schema).toBe('reference-kernel.run/v1');
    expect(doc.seed).toBe(7);
    expect(doc.metrics.map((m: { id: string }) => m.id)).toEqual([
      'acquisitions',
      'transfers',
      'time_ns',
    ]);
  });

  it('compares two command lines side by side with ratios', async () => {
    const r = await cli('compare', USER, '--small', '--a', 'nr_cpus=2', '--b', 'nr_cpus=1');
    expect(r.status).toBe(0);
    const header = r.out.split('\n').find((l) => l.startsWith('metric'))!;
    expect(header).toMatch(/^metric\s+A\s+B\s+B\/A\s+unit$/);
    expect(r.out).toMatch(/cache-line transfers\s+\d+\s+0\s+0\.00x/);
    expect(r.out).toContain('A cmdline: nr_cpus=2');
    expect(r.out).toContain('B cmdline: nr_cpus=1');
    const j = JSON.parse(
      (await cli('compare', USER, '--small', '--json', '--a', 'nr_cpus=2', '--b', 'nr_cpus=1')).out,
    );
    expect(j.schema).toBe('reference-kernel.compare/v1');
    expect(j.metrics.find((m: { id: string }) => m.id === 'acquisitions').ratio).toBe(1);
  });

  it('writes a trace and an HTML report', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rk-'));
    const trace = join(dir, 't.json');
    const html = join(dir, 'r.html');
    const r = await cli('run', USER, '--small', '--trace', trace, '--html', html);
    expect(r.status).toBe(0);
    const t = JSON.parse(readFileSync(trace, 'utf8'));
    expect(Array.isArray(t.traceEvents)).toBe(true);
    expect(t.traceEvents.length).toBeGreaterThan(0);
    const page = readFileSync(html, 'utf8');
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(page).toContain('<svg');
    expect(page).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
  });

  it('rejects bad command lines with the documented errors', async () => {
    const unknown = await cli('run', USER, '--small', '--cmdline', 'nr_cpu=2');
    expect(unknown.status).toBe(2);
    expect(unknown.err).toContain("unknown boot parameter 'nr_cpu'; did you mean 'nr_cpus'?");
    const bad = await cli('run', USER, '--cmdline', 'preempt=fast');
    expect(bad.status).toBe(2);
    expect(bad.err).toContain('accepted: none, voluntary, full, rt');
    const seed = await cli('run', USER, '--seed', '-1');
    expect(seed.status).toBe(2);
    const scen = await cli('run', 'no-such-scenario');
    expect(scen.status).toBe(2);
    expect(scen.err).toContain("unknown scenario 'no-such-scenario'");
  });

  it('lists the built-in scenarios', async () => {
    const r = await cli('list', '--json');
    expect(r.status).toBe(0);
    expect(Array.isArray(JSON.parse(r.out))).toBe(true);
  });
});
