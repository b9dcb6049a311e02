/**
 * The scenario contract: a scenario boots a kernel, drives it, and computes
 * its own verdict and measurements from the simulation. Users write their own
 * with `defineScenario` and point `reference-kernel run` at the module.
 */
import type { Kernel } from './kernel.js';

/** One measured quantity. */
export interface Metric {
  /** Stable identifier, e.g. `grace_periods`. */
  readonly id: string;
  /** Human label. */
  readonly label: string;
  readonly value: number;
  /** Unit as printed: `ns`, `MB`, `misses/object`, `` for counts. */
  readonly unit: string;
  /** Which direction is better, for comparisons. */
  readonly better?: 'lower' | 'higher';
}

/** A table for the report (e.g. one row per strategy). */
export interface ResultTable {
  readonly title: string;
  readonly columns: readonly string[];
  readonly rows: readonly (readonly (string | number)[])[];
}

/** A time series for plots: virtual time in ns against a value. */
export interface Series {
  readonly id: string;
  readonly label: string;
  readonly unit: string;
  readonly points: readonly (readonly [number, number])[];
}

/** What a scenario computed. */
export interface ScenarioResult {
  /** The answer to the scenario's question, computed from the run. */
  readonly verdict: { readonly ok: boolean; readonly summary: string };
  readonly metrics: readonly Metric[];
  readonly tables?: readonly ResultTable[];
  readonly series?: readonly Series[];
  /** Scale and caveats a reader needs ("10 000 objects, not rcuscale's 32 M"). */
  readonly notes?: readonly string[];
  /** Summary lines in the kernel's own format (e.g. rcuscale's). */
  readonly logLines?: readonly string[];
}

/** What a scenario gets when it runs. */
export interface ScenarioContext {
  /** Boot a kernel with the run's command line, plus scenario-specific overrides. */
  boot(extraCmdline?: string): Kernel;
  /** The run's command line (canonical, defaults included). */
  readonly cmdline: string;
  /** Report progress in [0, 1] (shown as a bar on a TTY). */
  progress(fraction: number): void;
  /** True in the test suite: run small. */
  readonly small: boolean;
}

/** A scenario definition. */
export interface Scenario {
  /** Name used on the command line. */
  readonly name: string;
  /** One-line question it answers. */
  readonly title: string;
  /** Which seed threads it reproduces. */
  readonly seeds: readonly string[];
  /** Boot parameters the scenario needs unless the user overrides them. */
  readonly defaultCmdline?: string;
  run(ctx: ScenarioContext): ScenarioResult;
}

/** Type a scenario module's default export. */
export function defineScenario(s: Scenario): Scenario {
  return s;
}
