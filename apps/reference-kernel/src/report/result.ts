/**
 * The JSON documents `run --json` and `compare --json` print. The schema is
 * versioned: a consumer checks `schema` and reads only the fields documented
 * for that version (README, "JSON output").
 */
import type { Metric, ResultTable, ScenarioResult, Series } from '../scenario.js';

/** Schema id of a run document. */
export const RUN_SCHEMA = 'reference-kernel.run/v1';
/** Schema id of a compare document. */
export const COMPARE_SCHEMA = 'reference-kernel.compare/v1';

/** A diagnostic the run produced, as a structured record. */
export interface RunReport {
  readonly kind: string;
  readonly cpu: number;
  readonly context: string;
  readonly time: number;
  readonly pid: number;
  readonly comm: string;
  readonly title: string;
}

/** `run --json`. */
export interface RunDocument {
  readonly schema: typeof RUN_SCHEMA;
  readonly scenario: string;
  readonly title: string;
  readonly seeds: readonly string[];
  /** Canonical command line, every parameter. */
  readonly cmdline: string;
  readonly seed: number;
  readonly verdict: ScenarioResult['verdict'];
  readonly metrics: readonly Metric[];
  readonly tables: readonly ResultTable[];
  readonly series: readonly Series[];
  readonly notes: readonly string[];
  readonly logLines: readonly string[];
  /** Diagnostics of every kernel the scenario booted, in order. */
  readonly reports: readonly RunReport[];
  /** Virtual time the run simulated, ns. */
  readonly simulatedNs: number;
}

/** One compared metric. */
export interface ComparedMetric {
  readonly id: string;
  readonly label: string;
  readonly unit: string;
  readonly a: number | null;
  readonly b: number | null;
  /** b / a, or null when either is missing or a is 0. */
  readonly ratio: number | null;
  readonly better?: 'lower' | 'higher';
}

/** `compare --json`. */
export interface CompareDocument {
  readonly schema: typeof COMPARE_SCHEMA;
  readonly scenario: string;
  readonly a: RunDocument;
  readonly b: RunDocument;
  readonly metrics: readonly ComparedMetric[];
}

/** Pair the metrics of two runs by id, A's order first. */
export function compareMetrics(a: RunDocument, b: RunDocument): ComparedMetric[] {
  const ids: string[] = [];
  for (const m of [...a.metrics, ...b.metrics]) if (!ids.includes(m.id)) ids.push(m.id);
  return ids.map((id) => {
    const ma = a.metrics.find((m) => m.id === id);
    const mb = b.metrics.find((m) => m.id === id);
    const meta = (ma ?? mb)!;
    const va = ma?.value ?? null;
    const vb = mb?.value ?? null;
    return {
      id,
      label: meta.label,
      unit: meta.unit,
      a: va,
      b: vb,
      ratio: va === null || vb === null || va === 0 ? null : vb / va,
      ...(meta.better === undefined ? {} : { better: meta.better }),
    };
  });
}
