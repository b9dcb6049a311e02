import { defineConfig } from 'vitest/config';

// One root config; each package is a project resolved against its sources
// through the `@sim/source` export condition, so tests need no build.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*'],
  },
});
