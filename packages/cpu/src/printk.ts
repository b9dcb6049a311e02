import { formatTimestamp } from './clock.js';
import { MachineError, show } from './errors.js';

/** Console log levels, as the `KERN_*` prefixes (include/linux/kern_levels.h). @public */
export const LOGLEVEL = Object.freeze({
  emerg: 0,
  alert: 1,
  crit: 2,
  err: 3,
  warning: 4,
  notice: 5,
  info: 6,
  debug: 7,
} as const);

/** Name of a log level: 'emerg' … 'debug'. @public */
export type LogLevel = keyof typeof LOGLEVEL;

/** One line of the kernel log buffer (`struct printk_info` + text). @public */
export interface LogRecord {
  /** Sequence number in the log buffer. */
  readonly seq: number;
  /** Virtual time in ns (`local_clock()` of the printing CPU). */
  readonly time: number;
  /** Log level, 0 (emerg) to 7 (debug). */
  readonly level: number;
  /** CPU that printed it. */
  readonly cpu: number;
  /** The line, without timestamp. */
  readonly text: string;
}

/** Options of `machine.dmesg()`. @public */
export interface DmesgOptions {
  /** Only lines at this level or more severe (numerically ≤). */
  readonly level?: LogLevel;
  /** Omit the `[    0.000000] ` prefixes. */
  readonly noTimestamps?: boolean;
}

/** Resolve a level name or number to 0-7. @internal */
export function levelOf(level: LogLevel | number): number {
  if (typeof level === 'number') {
    if (Number.isInteger(level) && level >= 0 && level <= 7) return level;
  } else if (Object.hasOwn(LOGLEVEL, level)) {
    return LOGLEVEL[level];
  }
  throw new MachineError(
    'BAD_ARGUMENT',
    `printk level ${show(level)} is invalid: accepted 0-7 or ${Object.keys(LOGLEVEL).join(', ')}`,
  );
}

/**
 * The kernel log buffer: every `printk()` line with its virtual timestamp.
 * @internal
 */
export class PrintkLog {
  readonly records: LogRecord[] = [];

  append(time: number, cpu: number, level: number, text: string): void {
    for (const line of text.split('\n')) {
      this.records.push({ seq: this.records.length, time, level, cpu, text: line });
    }
  }

  format(opts: DmesgOptions = {}): string {
    const max = opts.level === undefined ? 7 : levelOf(opts.level);
    let out = '';
    for (const r of this.records) {
      if (r.level > max) continue;
      out += opts.noTimestamps === true ? `${r.text}\n` : `${formatTimestamp(r.time)}${r.text}\n`;
    }
    return out;
  }
}

/**
 * A burst/interval rate limit over virtual time, as `struct ratelimit_state`
 * (lib/ratelimit.c); `printk_ratelimit()` allows 10 messages per 5 s.
 * @internal
 */
export class RateLimit {
  private begin = Number.NEGATIVE_INFINITY;
  private printed = 0;
  missed = 0;
  private readonly intervalNs: number;
  private readonly burst: number;

  constructor(intervalNs: number, burst: number) {
    this.intervalNs = intervalNs;
    this.burst = burst;
  }

  allow(now: number): boolean {
    if (now - this.begin >= this.intervalNs) {
      this.begin = now;
      this.printed = 0;
    }
    if (this.printed < this.burst) {
      this.printed++;
      return true;
    }
    this.missed++;
    return false;
  }
}
