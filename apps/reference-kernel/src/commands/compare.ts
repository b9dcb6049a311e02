import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { renderCompareHtml } from '../report/html.js';
import { COMPARE_SCHEMA, type CompareDocument, compareMetrics } from '../report/result.js';
import { renderCompareText } from '../report/text.js';
import { resolveScenario, runScenario } from '../runner.js';
import type { Scenario } from '../scenario.js';
import { parseSeed, usage } from './run.js';

interface CompareFlags {
  a?: string;
  b?: string;
  seed?: string;
  json?: boolean;
  html?: string;
  small?: boolean;
}

/** Run a scenario under two command lines and pair their metrics. */
export function compareScenario(
  scenario: Scenario,
  a: string,
  b: string,
  opts: { seed?: number; small?: boolean } = {},
): CompareDocument {
  const common = {
    ...(opts.seed === undefined ? {} : { seed: opts.seed }),
    small: opts.small ?? false,
  };
  let ra: ReturnType<typeof runScenario>;
  let rb: ReturnType<typeof runScenario>;
  try {
    ra = runScenario(scenario, { ...common, cmdline: a });
    rb = runScenario(scenario, { ...common, cmdline: b });
  } catch (e) {
    usage(e);
  }
  return {
    schema: COMPARE_SCHEMA,
    scenario: scenario.name,
    a: ra.doc,
    b: rb.doc,
    metrics: compareMetrics(ra.doc, rb.doc),
  };
}

/** Register `compare <scenario> --a … --b …`. */
export function registerCompare(program: Command, io: CliIo): void {
  program
    .command('compare')
    .description('run a scenario under two command lines and show them side by side with ratios')
    .argument('<scenario>', 'scenario name or module path')
    .requiredOption('--a <cmdline>', 'command line of run A')
    .requiredOption('--b <cmdline>', 'command line of run B')
    .option('--seed <n>', 'PRNG seed for both runs')
    .option('--json', 'print the versioned JSON document')
    .option('--html <file>', 'write a self-contained HTML comparison with plots')
    .option('--small', 'run at test-suite scale')
    .action(async (name: string, flags: CompareFlags) => {
      const scenario = await resolveScenario(name);
      const seed = parseSeed(flags.seed);
      const doc = compareScenario(scenario, flags.a!, flags.b!, {
        ...(seed === undefined ? {} : { seed }),
        small: flags.small === true,
      });
      if (flags.html !== undefined) writeFileSync(flags.html, renderCompareHtml(doc));
      io.out(flags.json ? `${JSON.stringify(doc, null, 2)}\n` : renderCompareText(doc));
    });
}
