export {
  type TestFreeRecord,
  TestObjectPool,
  type TestObjectPoolOptions,
} from './object-pool.js';
export { TestPagePool, type TestPagePoolOptions } from './page-pool.js';
export { type RcuSheafHost, TestRcuSheaf, type TestRcuSheafOptions } from './sheaf.js';
export { TestShrinkerRegistry } from './shrinkers.js';
