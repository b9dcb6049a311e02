/**
 * `struct ratelimit_state` (lib/ratelimit.c) over jiffies: at most `burst`
 * events per `interval`; when a new interval starts after suppressions, the
 * caller prints "<name>: N callbacks suppressed", as `___ratelimit()` does.
 * @internal
 */
export class RateLimitState {
  private begin = -1;
  private printed = 0;
  /** Events suppressed in the current interval. */
  missed = 0;

  constructor(
    readonly interval: number,
    readonly burst: number,
  ) {}

  /**
   * Whether an event at `jiffies` may print. `onSuppressed` is called with
   * the number missed in the previous interval when a new one starts.
   */
  allow(jiffies: number, onSuppressed: (missed: number) => void): boolean {
    if (this.begin < 0) this.begin = jiffies;
    if (jiffies >= this.begin + this.interval) {
      if (this.missed > 0) onSuppressed(this.missed);
      this.begin = jiffies;
      this.printed = 0;
      this.missed = 0;
    }
    if (this.printed < this.burst) {
      this.printed++;
      return true;
    }
    this.missed++;
    return false;
  }
}
