import type { LockdepMap } from './map.js';

/** MAX_LOCK_DEPTH: held locks per task before lockdep gives up. @public */
export const MAX_LOCK_DEPTH = 48;

const SLOTS = MAX_LOCK_DEPTH + 1;

/**
 * A task's lockdep state: the held-lock stack, the running chain key and the
 * irq-event stamps. Models the lockdep fields of `struct task_struct`
 * (`held_locks[]`, `lockdep_depth`, `curr_chain_key`, `irqtrace`) and
 * `struct held_lock`, laid out as typed arrays indexed by stack slot.
 *
 * The integration keeps one per task and returns it from
 * `LockdepHost.taskState()`; only the engine writes it.
 * @public
 */
export class LockdepTaskState {
  /** `lockdep_depth`: number of held locks. */
  depth = 0;
  /** `curr_chain_key`, low 32 bits (INITIAL_CHAIN_KEY is all ones). */
  chainKeyLo = -1;
  /** `curr_chain_key`, high 32 bits. */
  chainKeyHi = -1;
  /** `held_lock::class_idx`. */
  readonly hClass = new Int32Array(SLOTS);
  /** `held_lock::read`: 0 write, 1 read, 2 recursive read. */
  readonly hRead = new Uint8Array(SLOTS);
  /** `held_lock::trylock`. */
  readonly hTrylock = new Uint8Array(SLOTS);
  /** `held_lock::check`. */
  readonly hCheck = new Uint8Array(SLOTS);
  /** `held_lock::hardirqs_off`: hardirqs were disabled at acquire time. */
  readonly hHardirqsOff = new Uint8Array(SLOTS);
  /** `held_lock::irq_context`: 2 * hardirq + softirq. */
  readonly hIrqContext = new Uint8Array(SLOTS);
  /** `held_lock::references` (nest_lock merging). */
  readonly hReferences = new Int32Array(SLOTS);
  /** `held_lock::prev_chain_key`, low half. */
  readonly hPrevKeyLo = new Int32Array(SLOTS);
  /** `held_lock::prev_chain_key`, high half. */
  readonly hPrevKeyHi = new Int32Array(SLOTS);
  /** Wait-context fold of the held locks of this context up to this slot: 1 = constant, 0 = min-with. */
  readonly hWaitConst = new Uint8Array(SLOTS);
  /** Wait-context fold value. */
  readonly hWaitVal = new Uint8Array(SLOTS);
  /** `held_lock::instance`. */
  readonly hInstance: (LockdepMap | null)[] = new Array<LockdepMap | null>(SLOTS).fill(null);
  /** `held_lock::nest_lock`. */
  readonly hNest: (LockdepMap | null)[] = new Array<LockdepMap | null>(SLOTS).fill(null);
  /** `held_lock::acquire_ip`, as a `%pS` string. */
  readonly hSite: string[] = new Array<string>(SLOTS).fill('');
  /** `irqtrace.irq_events`. */
  irqEvents = 0;
  /** `irqtrace.hardirq_enable_event`. */
  hardirqEnableEvent = 0;
  /** `irqtrace.hardirq_enable_ip`. */
  hardirqEnableSite = '';
  /** `irqtrace.hardirq_disable_event`. */
  hardirqDisableEvent = 0;
  /** `irqtrace.hardirq_disable_ip`. */
  hardirqDisableSite = '';
  /** `irqtrace.softirq_enable_event`. */
  softirqEnableEvent = 0;
  /** `irqtrace.softirq_enable_ip`. */
  softirqEnableSite = '';
  /** `irqtrace.softirq_disable_event`. */
  softirqDisableEvent = 0;
  /** `irqtrace.softirq_disable_ip`. */
  softirqDisableSite = '';
}

/**
 * Create the lockdep state of a new task. Models `lockdep_init_task()`.
 * @public
 */
export function createLockdepTaskState(): LockdepTaskState {
  return new LockdepTaskState();
}
