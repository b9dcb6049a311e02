import { LockdepError } from './errors.js';

/**
 * Lock wait types, nominal values with CONFIG_PROVE_RAW_LOCK_NESTING=y.
 * Models `enum lockdep_wait_type` (include/linux/lockdep_types.h).
 * Without RAW nesting the kernel folds CONFIG into SPIN; see
 * {@link effectiveWaitType}.
 * @public
 */
export const WaitType = {
  /** LD_WAIT_INV: not checked (no annotation). */
  INV: 0,
  /** LD_WAIT_FREE: wait-free, e.g. RCU readers. */
  FREE: 1,
  /** LD_WAIT_SPIN: spin loops, raw_spinlock_t. */
  SPIN: 2,
  /** LD_WAIT_CONFIG: preemptible on PREEMPT_RT: spinlock_t, rwlock_t, local_lock_t. */
  CONFIG: 3,
  /** LD_WAIT_SLEEP: sleeping locks, mutex and rw_semaphore. */
  SLEEP: 4,
  /** LD_WAIT_MAX: the task context, anything may be taken. */
  MAX: 5,
} as const;

/** One of the {@link WaitType} values. @public */
export type WaitTypeValue = (typeof WaitType)[keyof typeof WaitType];

/**
 * Lock class kinds for the wait-type check and irq-inversion search.
 * Models `enum lockdep_lock_type` (LD_LOCK_NORMAL, LD_LOCK_PERCPU,
 * LD_LOCK_WAIT_OVERRIDE).
 * @public
 */
export const LockType = {
  /** LD_LOCK_NORMAL. */
  NORMAL: 'normal',
  /** LD_LOCK_PERCPU: local_lock_t; skipped by the irq-inversion search. */
  PERCPU: 'percpu',
  /** LD_LOCK_WAIT_OVERRIDE: annotation that resets the wait level when held. */
  WAIT_OVERRIDE: 'wait-override',
} as const;

/** One of the {@link LockType} values. @public */
export type LockTypeName = (typeof LockType)[keyof typeof LockType];

/**
 * What a lock class is for the wait-type check: its inner type (what it is)
 * and outer type (what context it needs; defaults to inner). Models the
 * `wait_type_inner`, `wait_type_outer` and `lock_type` of `struct lockdep_map`.
 * @public
 */
export interface LockClassDesc {
  /** Wait type of the lock itself. */
  readonly inner: WaitTypeValue;
  /** Wait type the acquiring context must allow; `inner` when absent. */
  readonly outer?: WaitTypeValue;
  /** Lock kind; `'normal'` when absent. */
  readonly lockType?: LockTypeName;
}

/**
 * Ready-made class descriptors of the kernel's lock types, as their
 * `*_DEP_MAP_INIT` macros set them (outer:inner as lockdep prints them).
 * @public
 */
export const LockClassDescs = {
  /** raw_spinlock_t, `{2:2}`. */
  rawSpinlock: { inner: WaitType.SPIN },
  /** spinlock_t, `{3:3}`. */
  spinlock: { inner: WaitType.CONFIG },
  /** rwlock_t, `{3:3}`. */
  rwlock: { inner: WaitType.CONFIG },
  /** local_lock_t / local_trylock_t, `{3:3}`, LD_LOCK_PERCPU. */
  localLock: { inner: WaitType.CONFIG, lockType: LockType.PERCPU },
  /** struct mutex, `{4:4}`. */
  mutex: { inner: WaitType.SLEEP },
  /** struct rw_semaphore, `{4:4}`. */
  rwsem: { inner: WaitType.SLEEP },
  /** rcu_lock_map (`rcu_read_lock()`), `{1:3}`. */
  rcuReadLock: { outer: WaitType.FREE, inner: WaitType.CONFIG },
  /** rcu_bh_lock_map (`rcu_read_lock_bh()`), `{1:3}`. */
  rcuReadLockBh: { outer: WaitType.FREE, inner: WaitType.CONFIG },
  /** rcu_sched_lock_map (`rcu_read_lock_sched()`), `{1:2}`. */
  rcuReadLockSched: { outer: WaitType.FREE, inner: WaitType.SPIN },
  /** `__fs_reclaim_map` (STATIC_LOCKDEP_MAP_INIT, no wait type), `{0:0}`. */
  fsReclaim: { inner: WaitType.INV },
} as const satisfies Record<string, LockClassDesc>;

/**
 * The numeric value the kernel uses for a nominal wait type in a given
 * configuration: without CONFIG_PROVE_RAW_LOCK_NESTING, LD_WAIT_CONFIG is
 * LD_WAIT_SPIN (2), LD_WAIT_SLEEP is 3 and LD_WAIT_MAX is 4.
 * @public
 */
export function effectiveWaitType(nominal: number, proveRawLockNesting: boolean): number {
  if (proveRawLockNesting || nominal < WaitType.CONFIG) return nominal;
  return nominal - 1;
}

/** Internal lock-type codes stored in the class table. @internal */
export const LOCK_TYPE_NORMAL = 0;
/** @internal */
export const LOCK_TYPE_PERCPU = 1;
/** @internal */
export const LOCK_TYPE_WAIT_OVERRIDE = 2;

/** Validate a descriptor and return its lock-type code. @internal */
export function checkClassDesc(name: string, desc: LockClassDesc): number {
  const ok = (w: unknown): boolean =>
    typeof w === 'number' && Number.isInteger(w) && w >= WaitType.INV && w < WaitType.MAX;
  if (desc === null || typeof desc !== 'object' || !ok(desc.inner)) {
    throw new LockdepError(
      'BAD_WAIT_TYPE',
      `lock class "${name}": inner wait type ${String(desc?.inner)} is invalid; accepted: WaitType.INV..WaitType.SLEEP (0..4)`,
    );
  }
  if (desc.outer !== undefined && !ok(desc.outer)) {
    throw new LockdepError(
      'BAD_WAIT_TYPE',
      `lock class "${name}": outer wait type ${String(desc.outer)} is invalid; accepted: WaitType.INV..WaitType.SLEEP (0..4)`,
    );
  }
  switch (desc.lockType ?? LockType.NORMAL) {
    case LockType.NORMAL:
      return LOCK_TYPE_NORMAL;
    case LockType.PERCPU:
      return LOCK_TYPE_PERCPU;
    case LockType.WAIT_OVERRIDE:
      return LOCK_TYPE_WAIT_OVERRIDE;
    default:
      throw new LockdepError(
        'BAD_LOCK_TYPE',
        `lock class "${name}": lock type ${JSON.stringify(desc.lockType)} is invalid; accepted: 'normal', 'percpu', 'wait-override'`,
      );
  }
}
