/** Plain-text reports: verdict first, then aligned tables. */
import type { CompareDocument, RunDocument } from './result.js';

/** Format a number for a table: integers grouped, others to 3 significant digits. */
export function fmtNum(v: number | null): string {
  if (v === null || Number.isNaN(v)) return '-';
  if (Number.isInteger(v)) return v.toLocaleString('en-US');
  const abs = Math.abs(v);
  if (abs >= 1000) return Math.round(v).toLocaleString('en-US');
  if (abs >= 1) return v.toFixed(abs >= 100 ? 1 : 2);
  return v.toPrecision(3);
}

/** Lay rows out in aligned columns (first column left, others right). */
export function alignTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function reportsSummary(doc: RunDocument): string {
  if (doc.reports.length === 0) return 'diagnostics: none';
  const counts = new Map<string, number>();
  for (const r of doc.reports) counts.set(r.kind, (counts.get(r.kind) ?? 0) + 1);
  return `diagnostics: ${[...counts].map(([k, n]) => `${k} x${n}`).join(', ')}`;
}

/** The text report of one run. */
export function renderRunText(doc: RunDocument): string {
  const out: string[] = [];
  out.push(`${doc.scenario}: ${doc.title}`);
  out.push(`verdict: ${doc.verdict.ok ? 'OK' : 'PROBLEM'}: ${doc.verdict.summary}`);
  out.push('');
  out.push(
    alignTable(
      ['metric', 'value', 'unit'],
      doc.metrics.map((m) => [m.label, fmtNum(m.value), m.unit]),
    ),
  );
  for (const t of doc.tables) {
    out.push('', t.title);
    out.push(
      alignTable(
        t.columns,
        t.rows.map((r) => r.map((c) => (typeof c === 'number' ? fmtNum(c) : c))),
      ),
    );
  }
  if (doc.logLines.length > 0) out.push('', ...doc.logLines);
  if (doc.notes.length > 0) out.push('', ...doc.notes.map((n) => `note: ${n}`));
  out.push('', reportsSummary(doc));
  out.push(`simulated: ${fmtNum(doc.simulatedNs)} ns, seed ${doc.seed}`);
  out.push(`cmdline: ${doc.cmdline}`);
  return `${out.join('\n')}\n`;
}

/** The text report of a comparison: both columns and the ratio B/A. */
export function renderCompareText(doc: CompareDocument): string {
  const out: string[] = [];
  out.push(`${doc.scenario}: ${doc.a.title}`);
  out.push(`A: ${doc.a.verdict.ok ? 'OK' : 'PROBLEM'}: ${doc.a.verdict.summary}`);
  out.push(`B: ${doc.b.verdict.ok ? 'OK' : 'PROBLEM'}: ${doc.b.verdict.summary}`);
  out.push('');
  out.push(
    alignTable(
      ['metric', 'A', 'B', 'B/A', 'unit'],
      doc.metrics.map((m) => [
        m.label,
        fmtNum(m.a),
        fmtNum(m.b),
        m.ratio === null ? '-' : `${m.ratio.toFixed(m.ratio >= 100 ? 0 : 2)}x`,
        m.unit,
      ]),
    ),
  );
  out.push('', `A cmdline: ${doc.a.cmdline}`, `B cmdline: ${doc.b.cmdline}`);
  out.push(`A ${reportsSummary(doc.a)}`, `B ${reportsSummary(doc.b)}`);
  return `${out.join('\n')}\n`;
}
