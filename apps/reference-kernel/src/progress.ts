/**
 * A progress bar on stderr for long runs: only on a TTY, only once a run has
 * taken more than a second of wall time, never in JSON mode. Wall time is the
 * user's, not the simulation's, so it does not affect determinism.
 */
export interface Progress {
  update(fraction: number): void;
  done(): void;
}

/** A no-op progress sink. */
export const NO_PROGRESS: Progress = { update() {}, done() {} };

/** Where the bar is drawn: a TTY-like stream. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

/** A progress bar on `stream` when it is a TTY; `now` is the wall clock in ms. */
export function createProgress(
  label: string,
  stream: ProgressStream = process.stderr,
  now: () => number = () => performance.now(),
): Progress {
  if (stream.isTTY !== true) return NO_PROGRESS;
  const start = now();
  let shown = false;
  let last = -1;
  return {
    update(fraction) {
      const f = Math.max(0, Math.min(1, fraction));
      if (now() - start < 1000) return;
      const pct = Math.floor(f * 100);
      if (pct === last) return;
      last = pct;
      shown = true;
      const width = 30;
      const fill = Math.round(f * width);
      stream.write(
        `\r${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${String(pct).padStart(3)}%`,
      );
    },
    done() {
      if (shown) stream.write('\r\x1b[K');
    },
  };
}
