import { describeSlabAllocator } from '@sim/slab/conformance';
import { expectTypeOf, it } from 'vitest';
import {
  createSheaves,
  createSlabAllocator,
  createSlub,
  type SheavesOptions,
  type SlabAllocator,
  type SlabFactory,
  type SlabPorts,
  type SlubOptions,
  slabAllocators,
} from '../src/index.js';

/**
 * A "third" allocator as a user would publish it in its own package: it only
 * knows the contract, wraps SLUB and counts calls, and runs the suite as is.
 */
function createCountingSlab(
  ports: SlabPorts,
  options: { readonly counter: number[] },
): SlabAllocator {
  const inner = createSlub(ports);
  return new Proxy(inner, {
    get(target, key, receiver) {
      if (key === 'name') return 'counting-slub';
      if (key === 'stats') return () => ({ ...target.stats(), allocator: 'counting-slub' });
      const v = Reflect.get(target, key, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        options.counter[0] = (options.counter[0] ?? 0) + 1;
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

const counter = [0];
describeSlabAllocator('a third allocator from another package', createCountingSlab, {
  options: { counter },
  capabilities: { kasan: false },
  randomOps: 800,
});

it('the factories and the registry fit the SlabFactory type', () => {
  expectTypeOf(createSlub).toMatchTypeOf<SlabFactory<SlubOptions>>();
  expectTypeOf(createSheaves).toMatchTypeOf<SlabFactory<SheavesOptions>>();
  expectTypeOf(createCountingSlab).toMatchTypeOf<SlabFactory<{ readonly counter: number[] }>>();
  expectTypeOf(slabAllocators.slub).toMatchTypeOf<SlabFactory<SlubOptions>>();
  expectTypeOf(createSlabAllocator).returns.toMatchTypeOf<SlabAllocator>();
});
