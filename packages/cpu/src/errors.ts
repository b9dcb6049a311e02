/** Why a machine configuration was rejected. @public */
export type MachineConfigErrorCode = 'BAD_VALUE' | 'UNKNOWN_FIELD' | 'BAD_TYPE';

/**
 * A bad field in the configuration given to `createMachine()`: the message names
 * the field, the rejected value and the accepted range. Thrown before anything
 * is built, like the kernel refusing an invalid boot parameter.
 * @public
 */
export class MachineConfigError extends Error {
  /** Machine-readable reason. */
  readonly code: MachineConfigErrorCode;
  /** Dotted path of the offending field, e.g. `nrCpus` or `costs.ipi`. */
  readonly field: string;

  constructor(code: MachineConfigErrorCode, field: string, message: string) {
    super(message);
    this.name = 'MachineConfigError';
    this.code = code;
    this.field = field;
  }
}

/** Why a machine API call was rejected. @public */
export type MachineErrorCode =
  | 'BAD_ARGUMENT'
  | 'BAD_CPU'
  | 'BAD_IRQ'
  | 'BAD_SOFTIRQ'
  | 'SOFTIRQ_BUSY'
  | 'NO_IRQ'
  | 'BAD_TRIGGER'
  | 'BAD_PROBE'
  | 'BAD_WAIT'
  | 'REENTRANT_RUN'
  | 'NOT_IN_TASK'
  | 'TASK_DEAD';

/**
 * Host-side misuse of the machine API (a negative duration, an unknown CPU, an
 * irq number that was never requested…). Thrown before any simulated state
 * changes; simulated kernel misuse is reported in the log instead.
 * @public
 */
export class MachineError extends Error {
  /** Machine-readable reason. */
  readonly code: MachineErrorCode;

  constructor(code: MachineErrorCode, message: string) {
    super(message);
    this.name = 'MachineError';
    this.code = code;
  }
}

/**
 * Thrown by `report()` after logging when `panicOnWarn` is set, as the kernel's
 * `check_panic_on_warn()` turns the first warning into a panic.
 * @public
 */
export class KernelPanic extends Error {
  /** Kind of the report that caused the panic. */
  readonly kind: string;
  /** Sequence number of that report in `machine.reports()`. */
  readonly reportSeq: number;

  constructor(kind: string, reportSeq: number, message: string) {
    super(message);
    this.name = 'KernelPanic';
    this.kind = kind;
    this.reportSeq = reportSeq;
  }
}

/** Render a value for an error message. @internal */
export function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null || v === undefined) {
    return String(v);
  }
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
