import { __GFP_FS, __GFP_IO, __GFP_MOVABLE } from './flags.js';

/** Task flag: allocations may use all reserves and must not recurse into reclaim. Models `PF_MEMALLOC`. @public */
export const PF_MEMALLOC = 0x800;
/** Task flag: every allocation inherits GFP_NOFS. Models `PF_MEMALLOC_NOFS`. @public */
export const PF_MEMALLOC_NOFS = 0x40000;
/** Task flag: every allocation inherits GFP_NOIO. Models `PF_MEMALLOC_NOIO`. @public */
export const PF_MEMALLOC_NOIO = 0x80000;
/** Task flag: allocations must not be movable (long-term pins). Models `PF_MEMALLOC_PIN`. @public */
export const PF_MEMALLOC_PIN = 0x10000000;

/**
 * Apply a task's scoped allocation constraints to a mask. Models
 * `current_gfp_context()` (include/linux/sched/mm.h): NOIO strips IO and FS,
 * NOFS strips FS, PIN strips MOVABLE.
 * @public
 */
export function currentGfpContext(gfp: number, taskFlags: number): number {
  let flags = gfp >>> 0;
  if ((taskFlags & (PF_MEMALLOC_NOIO | PF_MEMALLOC_NOFS | PF_MEMALLOC_PIN)) !== 0) {
    if ((taskFlags & PF_MEMALLOC_NOIO) !== 0) flags &= ~(__GFP_IO | __GFP_FS);
    else if ((taskFlags & PF_MEMALLOC_NOFS) !== 0) flags &= ~__GFP_FS;
    if ((taskFlags & PF_MEMALLOC_PIN) !== 0) flags &= ~__GFP_MOVABLE;
  }
  return flags >>> 0;
}

/**
 * A task's `PF_MEMALLOC*` scope state with the kernel's save/restore pairs.
 * Each save returns a cookie holding the previous state of its bit, so nested
 * scopes restore correctly. Models `memalloc_noio_save()` and friends
 * (include/linux/sched/mm.h).
 * @public
 */
export class MemallocScope {
  /** The task's `PF_MEMALLOC*` bits. */
  flags = 0;

  private save(bit: number): number {
    const old = this.flags & bit;
    this.flags |= bit;
    return old;
  }

  private restore(bit: number, cookie: number): void {
    this.flags = (this.flags & ~bit) | (cookie & bit);
  }

  /** Enter a GFP_NOIO scope. Models `memalloc_noio_save()`. */
  noioSave(): number {
    return this.save(PF_MEMALLOC_NOIO);
  }
  /** Leave a GFP_NOIO scope. Models `memalloc_noio_restore()`. */
  noioRestore(cookie: number): void {
    this.restore(PF_MEMALLOC_NOIO, cookie);
  }
  /** Enter a GFP_NOFS scope. Models `memalloc_nofs_save()`. */
  nofsSave(): number {
    return this.save(PF_MEMALLOC_NOFS);
  }
  /** Leave a GFP_NOFS scope. Models `memalloc_nofs_restore()`. */
  nofsRestore(cookie: number): void {
    this.restore(PF_MEMALLOC_NOFS, cookie);
  }
  /** Enter a no-reclaim (PF_MEMALLOC) scope. Models `memalloc_noreclaim_save()`. */
  noreclaimSave(): number {
    return this.save(PF_MEMALLOC);
  }
  /** Leave a no-reclaim scope. Models `memalloc_noreclaim_restore()`. */
  noreclaimRestore(cookie: number): void {
    this.restore(PF_MEMALLOC, cookie);
  }
  /** Enter a long-term-pin scope. Models `memalloc_pin_save()`. */
  pinSave(): number {
    return this.save(PF_MEMALLOC_PIN);
  }
  /** Leave a long-term-pin scope. Models `memalloc_pin_restore()`. */
  pinRestore(cookie: number): void {
    this.restore(PF_MEMALLOC_PIN, cookie);
  }
  /** The mask an allocation really uses inside the current scopes. Models `current_gfp_context()`. */
  gfpContext(gfp: number): number {
    return currentGfpContext(gfp, this.flags);
  }
}
