/**
 * Runs a scenario: merges command lines, boots kernels on demand, collects
 * the diagnostics of every kernel booted, and builds the JSON document.
 */

import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { formatCmdline, parseCmdline } from './cmdline.js';
import { UsageError } from './io.js';
import { bootKernel, type Kernel } from './kernel.js';
import { NO_PROGRESS, type Progress } from './progress.js';
import { RUN_SCHEMA, type RunDocument, type RunReport } from './report/result.js';
import type { Scenario } from './scenario.js';
import { SCENARIOS } from './scenarios/index.js';

/**
 * Join command lines left to right; a later `name=value` replaces an earlier
 * one of the same name (the user's overrides win over a scenario's defaults).
 */
export function mergeCmdlines(...lines: readonly (string | undefined)[]): string {
  const words = new Map<string, string>();
  for (const line of lines) {
    for (const w of (line ?? '').trim().split(/\s+/)) {
      if (w === '') continue;
      const eq = w.indexOf('=');
      words.set(eq < 0 ? w : w.slice(0, eq), w);
    }
  }
  return [...words.values()].join(' ');
}

/** Find a built-in scenario by name, or load a user's module by path. */
export async function resolveScenario(nameOrPath: string): Promise<Scenario> {
  const builtin = SCENARIOS.find((s) => s.name === nameOrPath);
  if (builtin !== undefined) return builtin;
  if (/[\\/]|\.(m?js|ts)$/.test(nameOrPath)) {
    const mod = (await import(pathToFileURL(resolve(nameOrPath)).href)) as { default?: unknown };
    const s = mod.default as Scenario | undefined;
    if (s === undefined || typeof s.name !== 'string' || typeof s.run !== 'function') {
      throw new UsageError(
        `${nameOrPath} does not export a scenario; accepted: a module whose default export is defineScenario({ name, title, seeds, run })`,
      );
    }
    return s;
  }
  throw new UsageError(
    `unknown scenario '${nameOrPath}'; accepted: ${SCENARIOS.map((s) => s.name).join(', ')}, or the path of a scenario module`,
  );
}

/** Options of {@link runScenario}. */
export interface RunOptions {
  readonly cmdline?: string;
  readonly seed?: number;
  readonly small?: boolean;
  readonly trace?: boolean;
  readonly progress?: Progress;
}

/** A finished run: its document and the kernels it booted. */
export interface RunOutcome {
  readonly doc: RunDocument;
  readonly kernels: readonly Kernel[];
}

/** Run `scenario` once. Throws `BootParamError` for a bad command line before running anything. */
export function runScenario(scenario: Scenario, opts: RunOptions = {}): RunOutcome {
  const merged = mergeCmdlines(
    scenario.defaultCmdline,
    opts.cmdline,
    opts.seed === undefined ? undefined : `seed=${opts.seed}`,
  );
  const options = parseCmdline(merged);
  const cmdline = formatCmdline(options);
  const kernels: Kernel[] = [];
  const progress = opts.progress ?? NO_PROGRESS;
  const result = scenario.run({
    cmdline,
    small: opts.small ?? false,
    progress: (f) => progress.update(f),
    boot(extra) {
      const k = bootKernel(mergeCmdlines(cmdline, extra), { trace: opts.trace ?? false });
      kernels.push(k);
      return k;
    },
  });
  progress.done();
  const reports: RunReport[] = [];
  let simulatedNs = 0;
  for (const k of kernels) {
    simulatedNs += k.machine.now();
    for (const r of k.reports()) {
      reports.push({
        kind: r.kind,
        cpu: r.cpu,
        context: r.context,
        time: r.time,
        pid: r.pid,
        comm: r.comm,
        title: r.text.split('\n').find((l) => /\S/.test(l) && !/^=+$/.test(l)) ?? r.kind,
      });
    }
  }
  const doc: RunDocument = {
    schema: RUN_SCHEMA,
    scenario: scenario.name,
    title: scenario.title,
    seeds: scenario.seeds,
    cmdline,
    seed: options.seed,
    verdict: result.verdict,
    metrics: result.metrics,
    tables: result.tables ?? [],
    series: result.series ?? [],
    notes: result.notes ?? [],
    logLines: result.logLines ?? [],
    reports,
    simulatedNs,
  };
  return { doc, kernels };
}

/** One Chrome trace with each booted kernel as its own process. */
export function mergeTraces(kernels: readonly Kernel[]): string {
  const events: unknown[] = [];
  kernels.forEach((k, i) => {
    const t = JSON.parse(k.machine.exportChromeTrace()) as { traceEvents?: { pid?: number }[] };
    for (const e of t.traceEvents ?? []) events.push({ ...e, pid: i + 1 });
  });
  return `${JSON.stringify({ traceEvents: events, displayTimeUnit: 'ns' })}\n`;
}
