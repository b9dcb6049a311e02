import type { Machine, ReportRecord } from '@sim/cpu';

/** Facts of a simulated kernel-mode instruction-fetch fault. @internal */
export interface OopsInput {
  /** Faulting address as 16 hex digits (`%px`). */
  readonly address: string;
  /** Frames printed above the simulated call chain, innermost first. */
  readonly frames: readonly string[];
  /** Module list for "Modules linked in:" (`print_modules()`). */
  readonly modulesLine: string;
  /** Extra structured facts. */
  readonly details: Readonly<Record<string, unknown>>;
}

const dieCounters = new WeakMap<Machine, number>();

/**
 * Report an Oops for a call through a bad function pointer, in the format of
 * `page_fault_oops()` / `show_fault_oops()` (arch/x86/mm/fault.c) and
 * `__die_header()` (arch/x86/kernel/dumpstack.c): the "BUG:" line, the two
 * "#PF:" lines, the page-table walk, "Oops: Oops: 0010 [#N] …", the module
 * list and "RIP: 0010:<address>". Taints 'D' (DIE).
 * @internal
 */
export function reportOops(m: Machine, input: OopsInput): ReportRecord {
  const addrNum = Number.parseInt(input.address.slice(-12), 16);
  const nullDeref = /^0+$/.test(input.address.slice(0, 4)) && addrNum < 4096;
  const preempt = m.rt ? ' PREEMPT_RT' : m.preemptive ? ' PREEMPT' : '';
  const dieCounter = (dieCounters.get(m) ?? 0) + 1;
  dieCounters.set(m, dieCounter);
  const lines = [
    nullDeref
      ? `BUG: kernel NULL pointer dereference, address: ${input.address}`
      : `BUG: unable to handle page fault for address: ${input.address}`,
    '#PF: supervisor instruction fetch in kernel mode',
    '#PF: error_code(0x0010) - not-present page',
    nullDeref ? 'PGD 0 P4D 0 ' : 'PGD 2a15067 P4D 2a15067 PUD 2a16063 PMD 10a3e067 PTE 0',
    `Oops: Oops: 0010 [#${dieCounter}]${preempt} SMP PTI`,
    `Modules linked in:${input.modulesLine}`,
    `RIP: 0010:0x${input.address.replace(/^0+(?=.)/, '')}`,
    `Code: Unable to access opcode bytes at 0x${subHex(input.address, 0x2a)}.`,
  ];
  return m.report({
    kind: 'oops',
    lines,
    details: { address: input.address, ...input.details },
    taint: 'D',
    withStack: true,
    frames: input.frames,
    level: 'emerg',
  });
}

function subHex(addr: string, delta: number): string {
  // 64-bit subtraction on a hex string without BigInt: work on the low 48 bits.
  const hi = addr.slice(0, 4);
  const lo = Number.parseInt(addr.slice(4), 16);
  const v = lo - delta;
  if (v < 0) return 'ffffffffffffffd6';
  return hi + v.toString(16).padStart(12, '0');
}
