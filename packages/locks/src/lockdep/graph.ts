import type { LockClassTable } from './classes.js';
import { LOCKF_IRQ } from './usage.js';
import { LOCK_TYPE_NORMAL } from './wait-types.js';

/** MAX_LOCKDEP_ENTRIES: dependency list entries (two per dependency). @public */
export const MAX_LOCKDEP_ENTRIES = 32768;

/*
 * Dependency kinds of an edge prev -> next, one bit each (lock_list::dep).
 * Forward entries: bit0 = prev is exclusive (E), bit1 = next is not a
 * recursive reader (N). Backward entries swap the roles (calc_depb()).
 */
/** DEP_SR_MASK. @internal */
export const DEP_SR = 1;
/** DEP_ER_MASK. @internal */
export const DEP_ER = 2;
/** DEP_SN_MASK. @internal */
export const DEP_SN = 4;
/** DEP_EN_MASK. @internal */
export const DEP_EN = 8;

/** `calc_dep()`: forward dependency bit for (prev read, next read). @internal */
export function calcDep(prevRead: number, nextRead: number): number {
  return 1 << ((prevRead === 0 ? 1 : 0) + (nextRead !== 2 ? 2 : 0));
}

/** `calc_depb()`: backward dependency bit for (prev read, next read). @internal */
export function calcDepb(prevRead: number, nextRead: number): number {
  return 1 << ((nextRead !== 2 ? 1 : 0) + (prevRead === 0 ? 2 : 0));
}

/** BFS match modes (the `match` callbacks of `__bfs()`). @internal */
export const BfsMatch = {
  /** `hlock_conflict()`: reach the target class through a strong path. */
  CONFLICT: 0,
  /** `usage_match()`: reach a class with a usage bit in the mask. */
  USAGE: 1,
  /** `usage_accumulate()`: OR the usage of every reachable class. */
  ACCUMULATE: 2,
  /** `noop_count()`: count reachable classes. */
  COUNT: 3,
} as const;

/** First BFS root slot (`struct lock_list this`). @internal */
export const ROOT_A = 1;
/** Second BFS root slot (`struct lock_list that`). @internal */
export const ROOT_B = 2;
const FIRST_ENTRY = 3;

/**
 * The lock dependency graph. Models `list_entries[]` with each class's
 * `locks_after` / `locks_before` lists, `add_lock_to_list()` and the
 * breadth-first search `__bfs()` with its strong-path rule for recursive
 * readers: a path may not contain `-(*R)->` followed by `-(S*)->`
 * (Documentation/locking/lockdep-design.rst).
 *
 * Entries are integer ids into typed arrays; slots 1 and 2 are BFS roots.
 * The search visits classes in the kernel's order (list order, first child
 * queued, siblings walked through the parent's list) so reports name the
 * same paths.
 * @internal
 */
export class DependencyGraph {
  /** Entries in use (two per dependency). */
  entries = 0;
  /** `lock_list::class`: the class the entry points to. */
  eClass = new Int32Array(1024);
  /** `lock_list::links_to`: the class whose list holds the entry. */
  eLinksTo = new Int32Array(1024);
  /** `lock_list::dep`. */
  eDep = new Uint8Array(1024);
  /** `lock_list::distance`. */
  eDistance = new Uint8Array(1024);
  /** Next entry in the same list (0 ends it). */
  eNext = new Int32Array(1024);
  /** BFS parent entry (-1 for a root). */
  eParent = new Int32Array(1024);
  /** `lock_list::only_xr`. */
  eOnlyXr = new Uint8Array(1024);
  /** `lock_list::trace`: call chain where the dependency was first seen. */
  eTrace: (readonly string[] | null)[] = [null, null, null];
  /** Head / tail of each class's `locks_after` and `locks_before`. */
  afterHead = new Int32Array(256);
  afterTail = new Int32Array(256);
  beforeHead = new Int32Array(256);
  beforeTail = new Int32Array(256);
  /** `dep_gen_id` of each class. */
  gen = new Int32Array(256);
  /** Usage mask accumulated by an ACCUMULATE search. */
  accumulated = 0;
  /** Classes counted by a COUNT search. */
  counted = 0;
  private genId = 0;
  private queue = new Int32Array(256);
  private next = FIRST_ENTRY;

  constructor(private readonly classes: LockClassTable) {}

  /** Make room for class ids up to `cls`. */
  ensureClass(cls: number): void {
    if (cls < this.afterHead.length) return;
    let n = this.afterHead.length;
    while (n <= cls) n *= 2;
    const g = (a: Int32Array) => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.afterHead = g(this.afterHead);
    this.afterTail = g(this.afterTail);
    this.beforeHead = g(this.beforeHead);
    this.beforeTail = g(this.beforeTail);
    this.gen = g(this.gen);
    this.queue = new Int32Array(n);
  }

  /** Set up a BFS root entry for `cls`. */
  initRoot(root: number, cls: number, onlyXr: boolean): void {
    this.eClass[root] = cls;
    this.eParent[root] = -1;
    this.eOnlyXr[root] = onlyXr ? 1 : 0;
    this.eTrace[root] = null;
  }

  /** The forward entry prev -> next, or 0. */
  findAfter(prev: number, next: number): number {
    for (let e = this.afterHead[prev] ?? 0; e !== 0; e = this.eNext[e] ?? 0) {
      if (this.eClass[e] === next) return e;
    }
    return 0;
  }

  /** The backward entry of next pointing at prev, or 0. */
  findBefore(next: number, prev: number): number {
    for (let e = this.beforeHead[next] ?? 0; e !== 0; e = this.eNext[e] ?? 0) {
      if (this.eClass[e] === prev) return e;
    }
    return 0;
  }

  /**
   * Add the dependency prev -> next (both list entries). Returns false when
   * MAX_LOCKDEP_ENTRIES is exhausted.
   */
  add(
    prev: number,
    next: number,
    dep: number,
    depb: number,
    distance: number,
    trace: readonly string[],
  ): boolean {
    if (this.entries + 2 > MAX_LOCKDEP_ENTRIES) return false;
    const f = this.alloc();
    this.eClass[f] = next;
    this.eLinksTo[f] = prev;
    this.eDep[f] = dep;
    this.eDistance[f] = distance;
    this.eTrace[f] = trace;
    const ft = this.afterTail[prev] ?? 0;
    if (ft === 0) this.afterHead[prev] = f;
    else this.eNext[ft] = f;
    this.afterTail[prev] = f;
    const b = this.alloc();
    this.eClass[b] = prev;
    this.eLinksTo[b] = next;
    this.eDep[b] = depb;
    this.eDistance[b] = distance;
    this.eTrace[b] = trace;
    const bt = this.beforeTail[next] ?? 0;
    if (bt === 0) this.beforeHead[next] = b;
    else this.eNext[bt] = b;
    this.beforeTail[next] = b;
    this.entries += 2;
    return true;
  }

  private alloc(): number {
    const e = this.next++;
    if (e >= this.eClass.length) {
      const n = this.eClass.length * 2;
      const g32 = (a: Int32Array) => {
        const b = new Int32Array(n);
        b.set(a);
        return b;
      };
      const g8 = (a: Uint8Array) => {
        const b = new Uint8Array(n);
        b.set(a);
        return b;
      };
      this.eClass = g32(this.eClass);
      this.eLinksTo = g32(this.eLinksTo);
      this.eNext = g32(this.eNext);
      this.eParent = g32(this.eParent);
      this.eDep = g8(this.eDep);
      this.eDistance = g8(this.eDistance);
      this.eOnlyXr = g8(this.eOnlyXr);
    }
    this.eNext[e] = 0;
    this.eTrace[e] = null;
    return e;
  }

  /**
   * Breadth-first search from `root` along `locks_after` (forward) or
   * `locks_before`, following only strong dependency paths. `mode` selects
   * the match function; `a` / `b` are its arguments (target class and its
   * read state for CONFLICT, the usage mask for USAGE). With `skip`,
   * local_lock and wait-override classes are neither matched nor crossed
   * (`usage_skip()`). Returns the matching entry or 0.
   */
  bfs(root: number, forward: boolean, mode: number, a: number, b: number, skip: boolean): number {
    const gen = ++this.genId;
    const eClass = this.eClass;
    const eParent = this.eParent;
    const eNext = this.eNext;
    const eOnlyXr = this.eOnlyXr;
    const heads = forward ? this.afterHead : this.beforeHead;
    const usage = this.classes.usage;
    const queue = this.queue;
    const qmask = queue.length;
    let front = 0;
    let rear = 0;
    queue[rear++] = root;
    let lock = 0;
    for (;;) {
      // __bfs_next(): the next sibling of the entry just handled, if it has a parent.
      if (lock !== 0 && (eParent[lock] ?? -1) >= 0) lock = eNext[lock] ?? 0;
      else lock = 0;
      if (lock === 0) {
        if (front === rear) return 0;
        lock = queue[front % qmask] ?? 0;
        front++;
      }
      const cls = eClass[lock] ?? 0;
      if (this.gen[cls] === gen) continue;
      this.gen[cls] = gen;
      const parent = eParent[lock] ?? -1;
      if (parent >= 0) {
        let dep = this.eDep[lock] ?? 0;
        if (eOnlyXr[parent] === 1) dep &= ~(DEP_SR | DEP_SN);
        if (dep === 0) continue;
        eOnlyXr[lock] = (dep & (DEP_SN | DEP_EN)) === 0 ? 1 : 0;
      }
      if (skip && this.classes.lockType[cls] !== LOCK_TYPE_NORMAL) continue;
      const onlyXr = eOnlyXr[lock] === 1;
      switch (mode) {
        case BfsMatch.CONFLICT:
          if (cls === a && (b === 0 || !onlyXr)) return lock;
          break;
        case BfsMatch.USAGE: {
          const u = usage[cls] ?? 0;
          if (((onlyXr ? u & LOCKF_IRQ : u) & a) !== 0) return lock;
          break;
        }
        case BfsMatch.ACCUMULATE: {
          const u = usage[cls] ?? 0;
          this.accumulated |= onlyXr ? u & LOCKF_IRQ : u;
          break;
        }
        default:
          this.counted++;
      }
      let first = true;
      for (let e = heads[cls] ?? 0; e !== 0; e = eNext[e] ?? 0) {
        eParent[e] = lock;
        if (first) {
          first = false;
          queue[rear % qmask] = e;
          rear++;
        }
      }
    }
  }

  /** `get_lock_depth()`: hops from an entry back to its BFS root. */
  depthOf(e: number): number {
    let d = 0;
    for (let p = this.eParent[e] ?? -1; p >= 0; p = this.eParent[p] ?? -1) d++;
    return d;
  }
}
