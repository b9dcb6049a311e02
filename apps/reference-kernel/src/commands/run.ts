import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { BootParamError } from '../cmdline.js';
import { type CliIo, UsageError } from '../io.js';
import { createProgress } from '../progress.js';
import { renderRunHtml } from '../report/html.js';
import { renderRunText } from '../report/text.js';
import { mergeTraces, resolveScenario, runScenario } from '../runner.js';

interface RunFlags {
  cmdline?: string;
  seed?: string;
  json?: boolean;
  trace?: string;
  html?: string;
  small?: boolean;
}

/** Parse `--seed`. */
export function parseSeed(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) > 2 ** 31 - 1) {
    throw new UsageError(`bad --seed '${text}'; accepted: an integer from 0 to 2147483647`);
  }
  return Number(text);
}

/** Turn a boot-parameter error into a usage error. */
export function usage(e: unknown): never {
  if (e instanceof BootParamError) throw new UsageError(e.message);
  throw e;
}

/** Register `run <scenario>`. */
export function registerRun(program: Command, io: CliIo): void {
  program
    .command('run')
    .description(
      'run a scenario (a built-in name, or the path of a module exporting defineScenario())',
    )
    .argument('<scenario>', 'scenario name or module path')
    .option(
      '--cmdline <params>',
      'kernel command line, e.g. "nr_cpus=8 preempt=rt kfree_rcu=batched"',
    )
    .option('--seed <n>', 'PRNG seed (same seed, same output)')
    .option('--json', 'print the versioned JSON document instead of the text report')
    .option('--trace <file>', 'write a Chrome/Perfetto trace (ui.perfetto.dev)')
    .option('--html <file>', 'write a self-contained HTML report with plots')
    .option('--small', 'run at test-suite scale')
    .action(async (name: string, flags: RunFlags) => {
      const scenario = await resolveScenario(name);
      const seed = parseSeed(flags.seed);
      let outcome: ReturnType<typeof runScenario>;
      try {
        outcome = runScenario(scenario, {
          ...(flags.cmdline === undefined ? {} : { cmdline: flags.cmdline }),
          ...(seed === undefined ? {} : { seed }),
          small: flags.small === true,
          trace: flags.trace !== undefined,
          progress: flags.json ? undefined : createProgress(scenario.name),
        } as Parameters<typeof runScenario>[1]);
      } catch (e) {
        usage(e);
      }
      if (flags.trace !== undefined) writeFileSync(flags.trace, mergeTraces(outcome.kernels));
      if (flags.html !== undefined) writeFileSync(flags.html, renderRunHtml(outcome.doc));
      io.out(flags.json ? `${JSON.stringify(outcome.doc, null, 2)}\n` : renderRunText(outcome.doc));
    });
}
