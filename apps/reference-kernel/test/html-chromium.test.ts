import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareScenario } from '../src/commands/compare.js';
import { renderCompareHtml, renderRunHtml } from '../src/report/html.js';
import { resolveScenario, runScenario } from '../src/runner.js';

// Debian's chromium package; .ci/run installs it. Elsewhere the test says why it skipped.
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
const USER = join(import.meta.dirname, 'fixtures', 'lock-bounce.scenario.ts');

function chromium(args: string[]): string {
  return execFileSync(
    CHROMIUM!,
    ['--headless=new', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', ...args],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 },
  );
}

describe.skipIf(CHROMIUM === undefined)(
  'HTML reports in headless Chromium (needs Debian chromium)',
  () => {
    it('renders a run report: verdict, table and an SVG plot with a line', async () => {
      const s = await resolveScenario(USER);
      const dir = mkdtempSync(join(tmpdir(), 'rk-html-'));
      const file = join(dir, 'run.html');
      writeFileSync(file, renderRunHtml(runScenario(s, { small: true }).doc));
      const dom = chromium(['--dump-dom', `file://${file}`]);
      expect(dom).toContain('lock-bounce: How often does a shared spinlock line bounce');
      expect(dom).toMatch(/<svg[^>]*>[\s\S]*<polyline[^>]*points="[\d., ]{20,}"/);
      expect(dom).toContain('cache-line transfers');
    }, 90_000);

    it('renders a comparison with both columns and a screenshot that is not blank', async () => {
      const s = await resolveScenario(USER);
      const dir = mkdtempSync(join(tmpdir(), 'rk-html-'));
      const file = join(dir, 'compare.html');
      const png = join(dir, 'compare.png');
      writeFileSync(
        file,
        renderCompareHtml(compareScenario(s, 'nr_cpus=2', 'nr_cpus=1', { small: true })),
      );
      const dom = chromium(['--dump-dom', `file://${file}`]);
      expect(dom).toContain('<th>A</th><th>B</th><th>B/A</th>');
      chromium([`--screenshot=${png}`, '--window-size=1000,1200', `file://${file}`]);
      expect(statSync(png).size).toBeGreaterThan(20_000);
    }, 90_000);
  },
);
