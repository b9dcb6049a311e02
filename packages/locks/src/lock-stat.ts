/**
 * lock_stat counters per lock class (kernel/locking/lockdep.c, CONFIG_LOCK_STAT):
 * acquisitions, contentions, and wait and hold time in virtual nanoseconds.
 * Kept in growable typed arrays indexed by a per-name stat id.
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

/** @internal */
export class LockStat {
  private names: string[] = [];
  private readonly ids = new Map<string, number>();
  acq = new Float64Array(16);
  con = new Float64Array(16);
  waitTotal = new Float64Array(16);
  waitMax = new Float64Array(16);
  holdTotal = new Float64Array(16);
  holdMax = new Float64Array(16);
  tryFail = new Float64Array(16);

  id(name: string): number {
    let id = this.ids.get(name);
    if (id !== undefined) return id;
    id = this.names.length;
    this.names.push(name);
    this.ids.set(name, id);
    if (id >= this.acq.length) this.grow();
    return id;
  }

  private grow(): void {
    const n = this.acq.length * 2;
    const g = (a: Float64Array) => {
      const b = new Float64Array(n);
      b.set(a);
      return b;
    };
    this.acq = g(this.acq);
    this.con = g(this.con);
    this.waitTotal = g(this.waitTotal);
    this.waitMax = g(this.waitMax);
    this.holdTotal = g(this.holdTotal);
    this.holdMax = g(this.holdMax);
    this.tryFail = g(this.tryFail);
  }

  contended(id: number, waitNs: number): void {
    this.con[id]! += 1;
    this.waitTotal[id]! += waitNs;
    if (waitNs > this.waitMax[id]!) this.waitMax[id] = waitNs;
  }

  held(id: number, holdNs: number): void {
    this.holdTotal[id]! += holdNs;
    if (holdNs > this.holdMax[id]!) this.holdMax[id] = holdNs;
  }

  rows(): LockStatRow[] {
    return this.names.map((name, i) => ({
      name,
      acquisitions: this.acq[i]!,
      contentions: this.con[i]!,
      waitTimeTotal: this.waitTotal[i]!,
      waitTimeMax: this.waitMax[i]!,
      holdTimeTotal: this.holdTotal[i]!,
      holdTimeMax: this.holdMax[i]!,
      trylockFailures: this.tryFail[i]!,
    }));
  }

  reset(): void {
    for (const a of [
      this.acq,
      this.con,
      this.waitTotal,
      this.waitMax,
      this.holdTotal,
      this.holdMax,
      this.tryFail,
    ]) {
      a.fill(0);
    }
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
