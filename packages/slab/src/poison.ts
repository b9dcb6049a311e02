/*
 * The byte patterns SLUB debugging writes into objects (include/linux/poison.h).
 */

/** Padding and the whole of a new slab (`POISON_INUSE`). @public */
export const POISON_INUSE = 0x5a;
/** Every byte of a free object but the last (`POISON_FREE`). @public */
export const POISON_FREE = 0x6b;
/** The last byte of a free object (`POISON_END`). @public */
export const POISON_END = 0xa5;
/** Red zone of a free object (`SLUB_RED_INACTIVE`). @public */
export const SLUB_RED_INACTIVE = 0xbb;
/** Red zone of an allocated object (`SLUB_RED_ACTIVE`). @public */
export const SLUB_RED_ACTIVE = 0xcc;
