import { defineProject } from 'vitest/config';

export default defineProject({
  resolve: { conditions: ['@sim/source'] },
  ssr: { resolve: { conditions: ['@sim/source'] } },
  test: { include: ['test/**/*.test.ts'] },
});
