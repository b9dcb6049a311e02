import { Command, CommanderError } from 'commander';
import { registerCompare } from './commands/compare.js';
import { registerGfp } from './commands/gfp.js';
import { registerList } from './commands/list.js';
import { registerRun } from './commands/run.js';
import { type CliIo, processIo, UsageError } from './io.js';

/** Build the `reference-kernel` program; each command registers itself here. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('reference-kernel')
    .description(
      'A simulated Linux kernel: memory allocation, locking and RCU, deterministic and fast',
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showSuggestionAfterError(true);
  registerRun(program, io);
  registerCompare(program, io);
  registerList(program, io);
  registerGfp(program, io);
  return program;
}

/**
 * Run the CLI with `argv` (without the node and script entries) and return the
 * exit status: 0 on success, 2 on a usage error, 1 on anything else.
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? 0 : 2;
    }
    if (e instanceof UsageError) {
      io.err(`reference-kernel: ${e.message}\n`);
      return 2;
    }
    io.err(`reference-kernel: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 1;
  }
}
