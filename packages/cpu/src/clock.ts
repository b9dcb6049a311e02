/**
 * Virtual time units and jiffies arithmetic (include/linux/jiffies.h,
 * include/vdso/time64.h). Time is an integer number of nanoseconds held in a
 * plain number, which stays exact below 2^53 ns (about 104 days).
 */

/** Nanoseconds per microsecond, as `NSEC_PER_USEC`. @public */
export const NSEC_PER_USEC = 1000;
/** Nanoseconds per millisecond, as `NSEC_PER_MSEC`. @public */
export const NSEC_PER_MSEC = 1_000_000;
/** Nanoseconds per second, as `NSEC_PER_SEC`. @public */
export const NSEC_PER_SEC = 1_000_000_000;

/**
 * Value of `jiffies` at boot on a 64-bit kernel: `INITIAL_JIFFIES` is
 * `(unsigned long)(unsigned int)(-300 * HZ)`, so that 32-bit wrap bugs show up
 * five minutes after boot. Depends on HZ, hence a function.
 * @public
 */
export function initialJiffies(hz: number): number {
  return 2 ** 32 - 300 * hz;
}

/** Length of one tick in ns, as the kernel's `TICK_NSEC` (rounded to nearest). @public */
export function tickNsec(hz: number): number {
  return Math.floor((NSEC_PER_SEC + Math.floor(hz / 2)) / hz);
}

/** Convert milliseconds to jiffies rounding up, as `msecs_to_jiffies()`. @public */
export function msecsToJiffies(ms: number, hz: number): number {
  if (ms <= 0) return 0;
  return Math.ceil((ms * hz) / 1000);
}

/** Convert microseconds to jiffies rounding up, as `usecs_to_jiffies()`. @public */
export function usecsToJiffies(us: number, hz: number): number {
  if (us <= 0) return 0;
  return Math.ceil((us * hz) / 1_000_000);
}

/** Convert jiffies to milliseconds, as `jiffies_to_msecs()`. @public */
export function jiffiesToMsecs(j: number, hz: number): number {
  return Math.floor((j * 1000) / hz);
}

/** True if jiffy value `a` is after `b`, as `time_after()` (64-bit, no wrap). @public */
export function timeAfter(a: number, b: number): boolean {
  return b - a < 0;
}

/** True if jiffy value `a` is before `b`, as `time_before()`. @public */
export function timeBefore(a: number, b: number): boolean {
  return a - b < 0;
}

/**
 * Format a virtual time in ns as the printk timestamp prefix
 * `[%5lu.%06lu] ` (seconds and microseconds), as `print_time()` in
 * kernel/printk/printk.c.
 * @public
 */
export function formatTimestamp(ns: number): string {
  const t = Math.max(0, Math.floor(ns));
  const sec = Math.floor(t / NSEC_PER_SEC);
  const usec = Math.floor((t % NSEC_PER_SEC) / NSEC_PER_USEC);
  return `[${String(sec).padStart(5, ' ')}.${String(usec).padStart(6, '0')}] `;
}
