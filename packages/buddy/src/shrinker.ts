import { BuddyError, show } from './errors.js';

/** `SHRINK_STOP` (~0UL): a scan callback can make no progress now. @public */
export const SHRINK_STOP = -1;
/** `SHRINK_EMPTY` (~0UL - 1): a count callback has no objects at all. @public */
export const SHRINK_EMPTY = -2;
/** `DEFAULT_SEEKS`: cost of recreating an object relative to a page. @public */
export const DEFAULT_SEEKS = 2;
/** `SHRINK_BATCH`: objects per scan call by default. @public */
export const SHRINK_BATCH = 128;

/** What reclaim passes to a shrinker (`struct shrink_control`). @public */
export interface ShrinkControl {
  /** The reclaim's GFP mask: a shrinker that needs `__GFP_FS` checks it. */
  readonly gfpMask: number;
  /** Node being reclaimed. */
  readonly nid: number;
  /** Objects to scan in this call. */
  nrToScan: number;
  /** Objects the callback scanned (it may lower or raise this). */
  nrScanned: number;
}

/**
 * A shrinker's callbacks (`struct shrinker` with `count_objects` and
 * `scan_objects`). Both run in reclaim context (direct reclaim or kswapd)
 * as plain functions.
 * @public
 */
export interface ShrinkerSpec {
  /** Name as `shrinker_alloc()` takes it, e.g. `'slab-kfree_rcu'`. */
  readonly name: string;
  /** Freeable objects now, 0 or {@link SHRINK_EMPTY} if none. */
  countObjects(sc: ShrinkControl): number;
  /** Free up to `sc.nrToScan` objects; return how many, or {@link SHRINK_STOP}. */
  scanObjects(sc: ShrinkControl): number;
  /** `seeks` (default {@link DEFAULT_SEEKS}); 0 means "free half of them every pass". */
  readonly seeks?: number;
  /** `batch` (default {@link SHRINK_BATCH}). */
  readonly batch?: number;
  /** `SHRINKER_NUMA_AWARE`: called per node rather than once for node 0. */
  readonly numaAware?: boolean;
}

/**
 * A registered shrinker (`struct shrinker`), with its deferred scan count.
 * Models `shrinker_alloc()` + `shrinker_register()`; `unregister()` models
 * `shrinker_free()`.
 * @public
 */
export class Shrinker {
  /** Name given at registration. */
  readonly name: string;
  /** Objects whose scan was deferred to later passes, per node (`nr_deferred`). */
  readonly nrDeferred: number[];
  /** Objects freed over the shrinker's life. */
  freed = 0;
  /** Scan calls made. */
  calls = 0;
  private registered = true;

  /** @internal */
  constructor(
    /** The callbacks given at registration. */
    readonly spec: ShrinkerSpec,
    nrNodes: number,
    private readonly onUnregister: (s: Shrinker) => void,
  ) {
    this.name = spec.name;
    this.nrDeferred = new Array<number>(nrNodes).fill(0);
  }

  /** Whether the shrinker is still registered. */
  get active(): boolean {
    return this.registered;
  }

  /** Remove the shrinker from the registry. Models `shrinker_free()`. */
  unregister(): void {
    if (!this.registered) return;
    this.registered = false;
    this.onUnregister(this);
  }
}

/** Validate a shrinker spec. @internal */
export function checkShrinkerSpec(spec: ShrinkerSpec): void {
  if (typeof spec !== 'object' || spec === null) {
    throw new BuddyError(
      'BAD_ARGUMENT',
      'shrinker',
      `registerShrinker(${show(spec)}): accepted { name, countObjects, scanObjects }`,
    );
  }
  if (typeof spec.name !== 'string' || spec.name.length === 0) {
    throw new BuddyError(
      'BAD_ARGUMENT',
      'shrinker.name',
      `shrinker name ${show(spec.name)}: accepted a non-empty string`,
    );
  }
  if (typeof spec.countObjects !== 'function' || typeof spec.scanObjects !== 'function') {
    throw new BuddyError(
      'BAD_ARGUMENT',
      'shrinker',
      `shrinker '${spec.name}': countObjects and scanObjects must be functions`,
    );
  }
  if (spec.seeks !== undefined && (!Number.isInteger(spec.seeks) || spec.seeks < 0)) {
    throw new BuddyError(
      'BAD_ARGUMENT',
      'shrinker.seeks',
      `shrinker '${spec.name}' seeks ${show(spec.seeks)}: accepted an integer >= 0`,
    );
  }
  if (spec.batch !== undefined && (!Number.isInteger(spec.batch) || spec.batch < 0)) {
    throw new BuddyError(
      'BAD_ARGUMENT',
      'shrinker.batch',
      `shrinker '${spec.name}' batch ${show(spec.batch)}: accepted an integer >= 0`,
    );
  }
}

/**
 * Ask one shrinker to free objects in proportion to reclaim pressure: scan
 * `(freeable >> priority) * 4 / seeks` objects plus part of what earlier passes
 * deferred, capped at twice the freeable count, in batches; defer what was not
 * scanned. Returns objects freed. Models `do_shrink_slab()` (mm/shrinker.c).
 * @internal
 */
export function doShrinkSlab(
  s: Shrinker,
  gfpMask: number,
  nid: number,
  priority: number,
  onScanned: (n: number) => void,
): number {
  const spec = s.spec;
  const sc: ShrinkControl = { gfpMask, nid, nrToScan: 0, nrScanned: 0 };
  const freeable = spec.countObjects(sc);
  if (freeable === 0 || freeable === SHRINK_EMPTY || freeable < 0) return 0;
  const slot = spec.numaAware === true ? nid : 0;
  const nr = s.nrDeferred[slot]!;
  s.nrDeferred[slot] = 0;
  const seeks = spec.seeks ?? DEFAULT_SEEKS;
  const batchSize = spec.batch !== undefined && spec.batch > 0 ? spec.batch : SHRINK_BATCH;
  const delta =
    seeks > 0 ? Math.floor(((freeable >> priority) * 4) / seeks) : Math.floor(freeable / 2);
  let totalScan = (nr >> priority) + delta;
  totalScan = Math.min(totalScan, freeable * 2);
  let freed = 0;
  let scanned = 0;
  while (totalScan >= batchSize || totalScan >= freeable) {
    const n = Math.min(batchSize, totalScan);
    sc.nrToScan = n;
    sc.nrScanned = n;
    s.calls++;
    const ret = spec.scanObjects(sc);
    if (ret === SHRINK_STOP) break;
    freed += Math.max(0, ret);
    onScanned(sc.nrScanned);
    totalScan -= sc.nrScanned;
    scanned += sc.nrScanned;
    if (sc.nrScanned <= 0) break;
  }
  let next = Math.max(nr - scanned, 0) + Math.max(totalScan, 0);
  next = Math.min(next, freeable * 2);
  s.nrDeferred[slot]! += next;
  s.freed += freed;
  return freed;
}
