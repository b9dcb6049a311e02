/** Where a command writes: results to `out`, diagnostics to `err`. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

/** The process's stdout and stderr. */
export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** A command-line usage error: exit status 2, message on stderr. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
