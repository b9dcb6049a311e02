/**
 * Kernel taint flags (kernel/panic.c `taint_flags[]`), printed in report
 * headers as `print_tainted()` and `print_tainted_verbose()` do.
 */

/** One taint flag: its letter when set, its letter when clear, its name. @internal */
interface TaintFlagInfo {
  readonly c: string;
  readonly off: string;
  readonly desc: string;
}

const FLAGS: readonly TaintFlagInfo[] = [
  { c: 'P', off: 'G', desc: 'PROPRIETARY_MODULE' },
  { c: 'F', off: ' ', desc: 'FORCED_MODULE' },
  { c: 'S', off: ' ', desc: 'CPU_OUT_OF_SPEC' },
  { c: 'R', off: ' ', desc: 'FORCED_RMMOD' },
  { c: 'M', off: ' ', desc: 'MACHINE_CHECK' },
  { c: 'B', off: ' ', desc: 'BAD_PAGE' },
  { c: 'U', off: ' ', desc: 'USER' },
  { c: 'D', off: ' ', desc: 'DIE' },
  { c: 'A', off: ' ', desc: 'OVERRIDDEN_ACPI_TABLE' },
  { c: 'W', off: ' ', desc: 'WARN' },
  { c: 'C', off: ' ', desc: 'CRAP' },
  { c: 'I', off: ' ', desc: 'FIRMWARE_WORKAROUND' },
  { c: 'O', off: ' ', desc: 'OOT_MODULE' },
  { c: 'E', off: ' ', desc: 'UNSIGNED_MODULE' },
  { c: 'L', off: ' ', desc: 'SOFTLOCKUP' },
  { c: 'K', off: ' ', desc: 'LIVEPATCH' },
  { c: 'X', off: ' ', desc: 'AUX' },
  { c: 'T', off: ' ', desc: 'RANDSTRUCT' },
  { c: 'N', off: ' ', desc: 'TEST' },
  { c: 'J', off: ' ', desc: 'FWCTL' },
];

/**
 * A taint letter as the kernel prints it: 'W' (WARN), 'B' (BAD_PAGE), 'D'
 * (DIE), 'L' (SOFTLOCKUP), … (see kernel/panic.c).
 * @public
 */
export type TaintFlag =
  | 'P'
  | 'F'
  | 'S'
  | 'R'
  | 'M'
  | 'B'
  | 'U'
  | 'D'
  | 'A'
  | 'W'
  | 'C'
  | 'I'
  | 'O'
  | 'E'
  | 'L'
  | 'K'
  | 'X'
  | 'T'
  | 'N'
  | 'J';

/** All taint letters in `taint_flags[]` order. @public */
export const TAINT_FLAGS: readonly TaintFlag[] = Object.freeze(FLAGS.map((f) => f.c as TaintFlag));

/** The machine's `tainted_mask`. @internal */
export class TaintState {
  private mask = 0;

  add(flag: TaintFlag): void {
    const i = TAINT_FLAGS.indexOf(flag);
    if (i < 0) throw new RangeError(`unknown taint flag ${flag}`);
    this.mask |= 1 << i;
  }

  test(flag: TaintFlag): boolean {
    return (this.mask & (1 << TAINT_FLAGS.indexOf(flag))) !== 0;
  }

  get value(): number {
    return this.mask;
  }

  /** `print_tainted()`: "Not tainted" or "Tainted: G        W          ". */
  compact(): string {
    if (this.mask === 0) return 'Not tainted';
    let s = 'Tainted: ';
    for (let i = 0; i < FLAGS.length; i++) {
      const f = FLAGS[i]!;
      s += (this.mask & (1 << i)) !== 0 ? f.c : f.off;
    }
    return s;
  }

  /** `print_tainted_verbose()`: "Tainted: [W]=WARN, [B]=BAD_PAGE". */
  verbose(): string {
    if (this.mask === 0) return 'Not tainted';
    const parts: string[] = [];
    for (let i = 0; i < FLAGS.length; i++) {
      const f = FLAGS[i]!;
      if ((this.mask & (1 << i)) !== 0) parts.push(`[${f.c}]=${f.desc}`);
    }
    return `Tainted: ${parts.join(', ')}`;
  }
}
