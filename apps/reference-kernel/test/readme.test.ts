import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { bootParamsTable } from '../src/cmdline.js';

it('the README documents every boot parameter with its default', () => {
  const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
  expect(readme).toContain(bootParamsTable());
});
