/**
 * Lock usage bits and the arithmetic lockdep does on them. Models
 * `enum lock_usage_bit` and the LOCKF_* masks of
 * kernel/locking/lockdep_internals.h, and `exclusive_bit()`,
 * `exclusive_mask()`, `original_mask()`, `get_usage_char()` of lockdep.c.
 *
 * Bit layout per irq state (HARDIRQ = 0, SOFTIRQ = 1): bit 0 read, bit 1
 * direction (0 used-in-irq, 1 irq-enabled), bits 2.. the state.
 */

/** LOCK_USED_IN_HARDIRQ. @internal */
export const USED_IN_HARDIRQ = 0;
/** LOCK_USED_IN_HARDIRQ_READ. @internal */
export const USED_IN_HARDIRQ_READ = 1;
/** LOCK_ENABLED_HARDIRQ. @internal */
export const ENABLED_HARDIRQ = 2;
/** LOCK_ENABLED_HARDIRQ_READ. @internal */
export const ENABLED_HARDIRQ_READ = 3;
/** LOCK_USED_IN_SOFTIRQ. @internal */
export const USED_IN_SOFTIRQ = 4;
/** LOCK_USED_IN_SOFTIRQ_READ. @internal */
export const USED_IN_SOFTIRQ_READ = 5;
/** LOCK_ENABLED_SOFTIRQ. @internal */
export const ENABLED_SOFTIRQ = 6;
/** LOCK_ENABLED_SOFTIRQ_READ. @internal */
export const ENABLED_SOFTIRQ_READ = 7;
/** LOCK_USED. @internal */
export const LOCK_USED = 8;
/** LOCK_USED_READ. @internal */
export const LOCK_USED_READ = 9;
/** LOCK_USAGE_STATES; also the pseudo bit printed as "IN-NMI". @internal */
export const LOCK_USAGE_STATES = 10;
/** LOCK_TRACE_STATES: bits that keep a stack trace. @internal */
export const LOCK_TRACE_STATES = 10;

/** LOCK_USAGE_READ_MASK. @internal */
export const USAGE_READ_MASK = 1;
/** LOCK_USAGE_DIR_MASK. @internal */
export const USAGE_DIR_MASK = 2;

/** LOCKF_USED_IN_IRQ_ALL: every used-in-irq bit, read or not. @internal */
export const LOCKF_USED_IN_IRQ_ALL = 0x33;
/** LOCKF_ENABLED_IRQ_ALL: every irq-enabled bit, read or not. @internal */
export const LOCKF_ENABLED_IRQ_ALL = 0xcc;
/** LOCKF_IRQ: the write (non-read) irq bits. @internal */
export const LOCKF_IRQ = 0x55;
/** LOCKF_IRQ_READ: the read irq bits. @internal */
export const LOCKF_IRQ_READ = 0xaa;
/** LOCKF_USED. @internal */
export const LOCKF_USED = 1 << LOCK_USED;
/** LOCKF_USED_READ. @internal */
export const LOCKF_USED_READ = 1 << LOCK_USED_READ;

/** `usage_str[]`: names printed in `{...}` and "... at:" lines. @internal */
export const USAGE_STR: readonly string[] = [
  'IN-HARDIRQ-W',
  'IN-HARDIRQ-R',
  'HARDIRQ-ON-W',
  'HARDIRQ-ON-R',
  'IN-SOFTIRQ-W',
  'IN-SOFTIRQ-R',
  'SOFTIRQ-ON-W',
  'SOFTIRQ-ON-R',
  'INITIAL USE',
  'INITIAL READ USE',
  'IN-NMI',
];

const STATE_NAMES = ['HARDIRQ', 'SOFTIRQ'];
const STATE_RNAMES = ['HARDIRQ-READ', 'SOFTIRQ-READ'];

/** `state_name()`: "HARDIRQ", "SOFTIRQ-READ"... for a usage bit. @internal */
export function stateName(bit: number): string {
  return ((bit & USAGE_READ_MASK) !== 0 ? STATE_RNAMES : STATE_NAMES)[bit >> 2] ?? '?';
}

/** `exclusive_bit()`: same state, other direction, read stripped. @internal */
export function exclusiveBit(bit: number): number {
  return (bit & ~3) | ((bit & USAGE_DIR_MASK) ^ USAGE_DIR_MASK);
}

function invertDirMask(mask: number): number {
  return ((mask & LOCKF_ENABLED_IRQ_ALL) >> 2) | ((mask & LOCKF_USED_IN_IRQ_ALL) << 2);
}

/**
 * `exclusive_mask()`: the usage bits that conflict with `mask` (direction
 * inverted, read and write both included). `original_mask()` computes the same.
 * @internal
 */
export function exclusiveMask(mask: number): number {
  let excl = invertDirMask(mask);
  excl |= (excl & LOCKF_IRQ_READ) >> 1;
  excl |= (excl & LOCKF_IRQ) << 1;
  return excl;
}

/**
 * `find_exclusive_match()`: the first pair (bit in `mask`, conflicting bit
 * in `exclMask`), packed as `bit | excl << 8`, or -1.
 * @internal
 */
export function findExclusiveMatch(mask: number, exclMask: number): number {
  for (let bit = 0; bit < LOCK_USED; bit++) {
    if ((mask & (1 << bit)) === 0) continue;
    const excl = exclusiveBit(bit);
    if ((exclMask & (1 << excl)) !== 0) return bit | (excl << 8);
    const exclRead = excl | USAGE_READ_MASK;
    if ((exclMask & (1 << exclRead)) !== 0) return bit | (exclRead << 8);
  }
  return -1;
}

function usageChar(usage: number, bit: number): string {
  if ((usage & (1 << (bit + USAGE_DIR_MASK))) !== 0) {
    return (usage & (1 << bit)) !== 0 ? '?' : '+';
  }
  return (usage & (1 << bit)) !== 0 ? '-' : '.';
}

/**
 * `get_usage_chars()`: the 4 characters printed in `{....}` (hardirq-write,
 * hardirq-read, softirq-write, softirq-read): `.` unused/irqs off, `-` used in
 * irq, `+` taken with that irq enabled, `?` both.
 * @internal
 */
export function usageChars(usage: number): string {
  return (
    usageChar(usage, USED_IN_HARDIRQ) +
    usageChar(usage, USED_IN_HARDIRQ_READ) +
    usageChar(usage, USED_IN_SOFTIRQ) +
    usageChar(usage, USED_IN_SOFTIRQ_READ)
  );
}
