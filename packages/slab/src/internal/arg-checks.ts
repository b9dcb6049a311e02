import { SlabError } from '../errors.js';
import { show } from './show.js';

/**
 * Argument checks of the slab entry points. Each stays a compare and a call
 * so every entry point inlines it; the message is built out of line, only
 * when an argument is bad.
 */

/** Validate a size argument. @internal */
export function checkSize(size: number, what: string): void {
  if (!(Number.isSafeInteger(size) && size >= 0)) badSize(size, what);
}

function badSize(size: number, what: string): never {
  throw new SlabError(
    'BAD_SIZE',
    `${what} size ${show(size)} is invalid: accepted an integer >= 0`,
  );
}

/** Validate a GFP mask argument. @internal */
export function checkGfp(gfp: number, what: string): void {
  if (gfp >>> 0 !== gfp) badGfp(gfp, what);
}

function badGfp(gfp: number, what: string): never {
  throw new SlabError(
    'BAD_ARGUMENT',
    `${what} gfp ${show(gfp)} is invalid: accepted a GFP mask (an integer in [0, 2^32))`,
  );
}

/** Validate a node argument: -1 (NUMA_NO_NODE) or 0. @internal */
export function checkNode(node: number, what: string): void {
  if (node !== -1 && node !== 0) badNode(node, what);
}

function badNode(node: number, what: string): never {
  throw new SlabError(
    'BAD_NODE',
    `${what} node ${show(node)} is invalid: accepted -1 (NUMA_NO_NODE) or 0 (the only node)`,
  );
}

/** Validate an address argument. @internal */
export function checkAddr(addr: number, what: string): void {
  if (!(Number.isSafeInteger(addr) && addr >= 0)) badAddr(addr, what);
}

function badAddr(addr: number, what: string): never {
  throw new SlabError(
    'BAD_ADDRESS',
    `${what} address ${show(addr)} is invalid: accepted a physical address (an integer >= 0)`,
  );
}
