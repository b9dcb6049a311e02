/** The object itself is poisoned (`__OBJECT_POISON`), decided by calculate_sizes(). @internal */
export const __OBJECT_POISON = 1 << 16;
/** The lockless cmpxchg-double fast paths are usable (`__CMPXCHG_DOUBLE`). @internal */
export const __CMPXCHG_DOUBLE = 1 << 17;
