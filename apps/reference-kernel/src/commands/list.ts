import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { alignTable } from '../report/text.js';
import { SCENARIOS } from '../scenarios/index.js';

/** Register `list`. */
export function registerList(program: Command, io: CliIo): void {
  program
    .command('list')
    .description('list the built-in scenarios')
    .option('--json', 'print as JSON')
    .action((flags: { json?: boolean }) => {
      if (flags.json) {
        io.out(
          `${JSON.stringify(
            SCENARIOS.map((s) => ({
              name: s.name,
              title: s.title,
              seeds: s.seeds,
              defaultCmdline: s.defaultCmdline ?? '',
            })),
            null,
            2,
          )}\n`,
        );
        return;
      }
      io.out(
        `${alignTable(
          ['scenario', 'question', 'seeds'],
          SCENARIOS.map((s) => [s.name, s.title, s.seeds.join(' ')]),
        )}\n`,
      );
    });
}
