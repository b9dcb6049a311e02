import type { SlabAllocator, SlabFactory, SlabPorts } from './contract.js';
import { SlabError } from './errors.js';
import { show } from './internal/show.js';
import type { SheavesOptions, SlubOptions } from './options.js';
import { createSheaves } from './sheaves.js';
import { createSlub } from './slub.js';

/**
 * The built-in implementations by `slab=` name. A kernel picks one by name;
 * a third implementation is registered next to them by whoever wires the
 * kernel.
 * @public
 */
export const slabAllocators = Object.freeze({
  slub: createSlub,
  sheaves: createSheaves,
}) satisfies Readonly<Record<string, SlabFactory<SlubOptions & SheavesOptions>>>;

/** A built-in `slab=` name. @public */
export type SlabAllocatorName = keyof typeof slabAllocators;

/** The built-in names, in the order the kernel grew them. @public */
export const SLAB_ALLOCATOR_NAMES: readonly SlabAllocatorName[] = Object.freeze([
  'slub',
  'sheaves',
]);

/**
 * Create the built-in allocator called `name` (the `slab=` boot parameter).
 * @throws {@link SlabError} `UNKNOWN_ALLOCATOR` for any other name.
 * @public
 */
export function createSlabAllocator(
  name: string,
  ports: SlabPorts,
  options?: SheavesOptions,
): SlabAllocator {
  if (name === 'slub') return createSlub(ports, options);
  if (name === 'sheaves') return createSheaves(ports, options);
  throw new SlabError(
    'UNKNOWN_ALLOCATOR',
    `slab=${show(name)} is not a slab allocator: accepted ${SLAB_ALLOCATOR_NAMES.map((n) => `'${n}'`).join(' or ')}`,
  );
}
