/**
 * GFP flags of the Linux kernel: bit values, composite masks, the helpers the
 * allocators use, and `%pGg` printing and parsing.
 *
 * @packageDocumentation
 */
export * from './describe.js';
export * from './dialect.js';
export * from './errors.js';
export * from './flags.js';
export * from './format.js';
export * from './helpers.js';
export * from './memalloc.js';
export * from './parse.js';
export * from './zone.js';
