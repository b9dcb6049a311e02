export { buildProgram, runCli } from './cli.js';
export { type GfpCommandResult, gfpCommand, renderGfp } from './commands/gfp.js';
export { type CliIo, UsageError } from './io.js';
