import type { RcuShrinkControl, RcuShrinkerSpec, ShrinkerRegistry } from '../ports.js';

/**
 * A shrinker registry stand-in for tests: records registrations and runs
 * them on demand as memory pressure would (`shrink_slab()`: count, then scan
 * if anything can be freed). Implements {@link ShrinkerRegistry}.
 * @public
 */
export class TestShrinkerRegistry implements ShrinkerRegistry {
  /** Registered shrinkers. */
  readonly shrinkers: RcuShrinkerSpec[] = [];

  /** `shrinker_register()`. */
  registerShrinker(spec: RcuShrinkerSpec): RcuShrinkerSpec {
    this.shrinkers.push(spec);
    return spec;
  }

  /** The shrinker named `name`, if registered. */
  find(name: string): RcuShrinkerSpec | undefined {
    return this.shrinkers.find((s) => s.name === name);
  }

  /** `shrink_slab()`: count every shrinker and scan those with objects; returns the total freed. */
  shrinkAll(nrToScan = 128): number {
    let freed = 0;
    for (const s of this.shrinkers) {
      const sc: RcuShrinkControl = { nrToScan };
      const n = s.countObjects(sc);
      if (n <= 0) continue;
      const r = s.scanObjects(sc);
      if (r > 0) freed += r;
    }
    return freed;
  }
}
