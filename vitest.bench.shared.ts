import { defineProject, type UserWorkspaceConfig } from 'vitest/config';

/**
 * The benchmark project of a package. Benchmarks measure the published
 * build: the package and its @sim dependencies load from their `dist/`
 * directly in Node, not through the test runner's module transform (which
 * turns every cross-module call into a property lookup and costs the hot
 * paths 2-3x), and without the `@sim/source` condition the tests use.
 * Bench files run one at a time so they do not compete for the two cores.
 */
export function benchProject(): UserWorkspaceConfig {
  return defineProject({
    test: {
      include: [],
      benchmark: { include: ['bench/**/*.bench.ts'] },
      fileParallelism: false,
      server: { deps: { external: [/\/dist\//] } },
    },
  });
}
