/**
 * Physical memory of 64-bit words and the cache model that charges every
 * simulated load and store.
 */
export * from './cache-config.js';
export * from './cache-error.js';
export * from './cache-model.js';
export * from './memory-error.js';
export * from './physical-memory.js';
