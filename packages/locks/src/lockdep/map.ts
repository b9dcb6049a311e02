import { LockdepError } from './errors.js';

/**
 * Size lockdep assumes for a lock instance when checking freed ranges:
 * `sizeof(struct lockdep_map)` on x86-64 without CONFIG_LOCK_STAT.
 * @public
 */
export const LOCKDEP_MAP_SIZE = 40;

/** Largest physical address the direct-map printing covers (9 hex digits, 64 GiB). @public */
export const MAX_PHYS_ADDR = 2 ** 36;

/**
 * Print a physical address as its x86-64 direct-map virtual address, the
 * way `%px` shows a lock in lockdep reports: `ffff888` followed by the
 * 9-hex-digit physical address.
 * @public
 */
export function formatDirectMapAddress(phys: number): string {
  return `ffff888${phys.toString(16).padStart(9, '0')}`;
}

/**
 * One lock instance as lockdep sees it. Models `struct lockdep_map`
 * (include/linux/lockdep_types.h): the class it was initialised with, the
 * instance name (`lock->name`, printed by "bad unlock balance"), and the
 * simulated address of the lock.
 * @public
 */
export class LockdepMap {
  /** Lock class (subclass 0) from `Lockdep.registerClass()`. */
  readonly classId: number;
  /** Instance name (`lockdep_map::name`). */
  readonly name: string;
  /** Physical address of the lock, or -1 for a static pseudo-lock outside the direct map. */
  readonly addr: number;
  /** Bytes the instance covers for `debug_check_no_locks_freed()`. */
  readonly size: number;
  /** The address as printed (`%px`). */
  readonly hexAddr: string;

  /**
   * @param classId - class from `Lockdep.registerClass()`
   * @param name - instance name
   * @param addr - physical address (integer, below 2^36), or -1 with `staticAddr`
   * @param size - bytes covered, default {@link LOCKDEP_MAP_SIZE}
   * @param staticAddr - printed address for static kernel-image maps (16 hex digits)
   */
  constructor(
    classId: number,
    name: string,
    addr: number,
    size: number = LOCKDEP_MAP_SIZE,
    staticAddr?: string,
  ) {
    if (!Number.isInteger(classId) || classId < 1) {
      throw new LockdepError(
        'BAD_CLASS',
        `lockdep map "${String(name)}": class id ${String(classId)} is invalid; accepted: an id returned by registerClass()`,
      );
    }
    if (typeof name !== 'string' || name.length === 0) {
      throw new LockdepError(
        'BAD_NAME',
        `lockdep map name ${JSON.stringify(name)} is invalid; accepted: a non-empty string`,
      );
    }
    if (staticAddr !== undefined) {
      if (!/^[0-9a-f]{16}$/.test(staticAddr)) {
        throw new LockdepError(
          'BAD_ADDRESS',
          `lockdep map "${name}": static address ${JSON.stringify(staticAddr)} is invalid; accepted: 16 lower-case hex digits`,
        );
      }
    } else if (!Number.isInteger(addr) || addr < 0 || addr >= MAX_PHYS_ADDR) {
      throw new LockdepError(
        'BAD_ADDRESS',
        `lockdep map "${name}": address ${String(addr)} is invalid; accepted: an integer physical address in [0, 2^36)`,
      );
    }
    if (!Number.isInteger(size) || size <= 0) {
      throw new LockdepError(
        'BAD_SIZE',
        `lockdep map "${name}": size ${String(size)} is invalid; accepted: a positive integer`,
      );
    }
    this.classId = classId;
    this.name = name;
    this.addr = staticAddr !== undefined ? -1 : addr;
    this.size = size;
    this.hexAddr = staticAddr ?? formatDirectMapAddress(addr);
  }
}
