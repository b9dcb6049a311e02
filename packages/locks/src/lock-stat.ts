/**
 * lock_stat counters per lock class (kernel/locking/lockdep.c, CONFIG_LOCK_STAT):
 * acquisitions, contentions, and wait and hold time in virtual nanoseconds,
 * one record per lock class name.
 */

/** One row of `/proc/lock_stat`. @public */
export interface LockStatRow {
  /** Lock class name. */
  readonly name: string;
  /** Successful acquisitions. */
  readonly acquisitions: number;
  /** Acquisitions that had to wait. */
  readonly contentions: number;
  /** Total virtual ns spent waiting. */
  readonly waitTimeTotal: number;
  /** Longest single wait, ns. */
  readonly waitTimeMax: number;
  /** Total virtual ns held. */
  readonly holdTimeTotal: number;
  /** Longest single hold, ns. */
  readonly holdTimeMax: number;
  /** Failed trylocks. */
  readonly trylockFailures: number;
}

/**
 * The lock_stat counters of one lock class (`struct lock_class_stats`). Every
 * lock of the class holds the same record, so the hot paths bump a field of an
 * object they already have instead of indexing several arrays.
 * @internal
 */
export class LockClassStat {
  acquisitions = 0;
  contentions = 0;
  waitTotal = 0;
  waitMax = 0;
  holdTotal = 0;
  holdMax = 0;
  tryFail = 0;

  constructor(readonly name: string) {}

  /** `lock_contended()` + `lock_acquired()`: one acquisition that waited `waitNs`. */
  contended(waitNs: number): void {
    this.contentions += 1;
    this.waitTotal += waitNs;
    if (waitNs > this.waitMax) this.waitMax = waitNs;
  }

  /** `lock_release()`: the lock was held for `holdNs`. */
  held(holdNs: number): void {
    this.holdTotal += holdNs;
    if (holdNs > this.holdMax) this.holdMax = holdNs;
  }

  reset(): void {
    this.acquisitions = 0;
    this.contentions = 0;
    this.waitTotal = 0;
    this.waitMax = 0;
    this.holdTotal = 0;
    this.holdMax = 0;
    this.tryFail = 0;
  }
}

/** The lock_stat records of every class, by name. @internal */
export class LockStat {
  private readonly records: LockClassStat[] = [];
  private readonly byName = new Map<string, LockClassStat>();

  /** The record of class `name`, created on first use. */
  record(name: string): LockClassStat {
    let r = this.byName.get(name);
    if (r === undefined) {
      r = new LockClassStat(name);
      this.records.push(r);
      this.byName.set(name, r);
    }
    return r;
  }

  rows(): LockStatRow[] {
    return this.records.map((r) => ({
      name: r.name,
      acquisitions: r.acquisitions,
      contentions: r.contentions,
      waitTimeTotal: r.waitTotal,
      waitTimeMax: r.waitMax,
      holdTimeTotal: r.holdTotal,
      holdTimeMax: r.holdMax,
      trylockFailures: r.tryFail,
    }));
  }

  reset(): void {
    for (const r of this.records) r.reset();
  }
}

/**
 * Format rows like `/proc/lock_stat` (times in microseconds, as the kernel
 * prints them with two decimals). Models `lock_stat_show()`.
 * @public
 */
export function formatLockStat(rows: readonly LockStatRow[]): string {
  const us = (ns: number) => (ns / 1000).toFixed(2);
  const head =
    'lock_stat version 0.4\n' +
    `${'class name'.padStart(40)} ${'con-bounces'.padStart(11)} ${'contentions'.padStart(11)} ${'waittime-max'.padStart(12)} ${'waittime-total'.padStart(14)} ${'acquisitions'.padStart(12)} ${'holdtime-max'.padStart(12)} ${'holdtime-total'.padStart(14)}\n`;
  let s = head;
  for (const r of rows) {
    if (r.acquisitions === 0 && r.contentions === 0) continue;
    s += `${`${r.name}:`.padStart(40)} ${String(r.contentions).padStart(11)} ${String(r.contentions).padStart(11)} ${us(r.waitTimeMax).padStart(12)} ${us(r.waitTimeTotal).padStart(14)} ${String(r.acquisitions).padStart(12)} ${us(r.holdTimeMax).padStart(12)} ${us(r.holdTimeTotal).padStart(14)}\n`;
  }
  return s;
}
