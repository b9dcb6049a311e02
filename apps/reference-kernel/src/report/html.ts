/** Self-contained HTML reports (inline CSS and SVG, no scripts, no network). */
import type { CompareDocument, RunDocument } from './result.js';
import { esc, lineChart, ratioChart } from './svg.js';
import { fmtNum } from './text.js';

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:980px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}table{border-collapse:collapse;margin:8px 0}
td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
.ok{color:#1a7f37}.bad{color:#cf222e}pre{background:#f6f8fa;padding:8px;white-space:pre-wrap;word-break:break-all;font-size:12px}
figure{margin:12px 0}`;

function page(title: string, body: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><style>${STYLE}</style></head><body>\n${body}\n</body></html>\n`;
}

function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cell = (c: string | number) => esc(typeof c === 'number' ? fmtNum(c) : c);
  return `<table><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${cell(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function verdict(label: string, v: RunDocument['verdict']): string {
  return `<p class="${v.ok ? 'ok' : 'bad'}"><b>${esc(label)}${v.ok ? 'OK' : 'PROBLEM'}</b>: ${esc(v.summary)}</p>`;
}

/** The HTML page of one run. */
export function renderRunHtml(doc: RunDocument): string {
  const body = [
    `<h1>${esc(doc.scenario)}: ${esc(doc.title)}</h1>`,
    verdict('', doc.verdict),
    `<h2>Measurements</h2>`,
    table(
      ['metric', 'value', 'unit'],
      doc.metrics.map((m) => [m.label, m.value, m.unit]),
    ),
    ...doc.tables.map((t) => `<h2>${esc(t.title)}</h2>${table(t.columns, t.rows)}`),
    doc.series.length > 0 ? '<h2>Over time</h2>' : '',
    ...doc.series.map(
      (s) =>
        `<figure>${lineChart(s.label, s.unit, [{ label: s.label, points: s.points }])}</figure>`,
    ),
    doc.logLines.length > 0 ? `<h2>Log</h2><pre>${esc(doc.logLines.join('\n'))}</pre>` : '',
    doc.notes.length > 0
      ? `<h2>Notes</h2><ul>${doc.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>`
      : '',
    `<h2>Run</h2><pre>${esc(`cmdline: ${doc.cmdline}\nseed: ${doc.seed}\ndiagnostics: ${doc.reports.length}`)}</pre>`,
  ];
  return page(`${doc.scenario} report`, body.join('\n'));
}

/** The HTML page of a comparison. */
export function renderCompareHtml(doc: CompareDocument): string {
  const ids = [...new Set([...doc.a.series, ...doc.b.series].map((s) => s.id))];
  const charts = ids.map((id) => {
    const sa = doc.a.series.find((s) => s.id === id);
    const sb = doc.b.series.find((s) => s.id === id);
    const meta = (sa ?? sb)!;
    const lines = [
      ...(sa ? [{ label: `A: ${sa.label}`, points: sa.points }] : []),
      ...(sb ? [{ label: `B: ${sb.label}`, points: sb.points }] : []),
    ];
    return `<figure>${lineChart(meta.label, meta.unit, lines)}</figure>`;
  });
  const bars = doc.metrics
    .filter((m) => m.ratio !== null && m.ratio > 0)
    .map((m) => ({ label: m.label, ratio: m.ratio! }));
  const body = [
    `<h1>${esc(doc.scenario)}: A vs B</h1>`,
    verdict('A: ', doc.a.verdict),
    verdict('B: ', doc.b.verdict),
    `<h2>Measurements</h2>`,
    table(
      ['metric', 'A', 'B', 'B/A', 'unit'],
      doc.metrics.map((m) => [
        m.label,
        m.a === null ? '-' : m.a,
        m.b === null ? '-' : m.b,
        m.ratio === null ? '-' : `${m.ratio.toFixed(2)}x`,
        m.unit,
      ]),
    ),
    bars.length > 0 ? `<figure>${ratioChart('B / A per metric (log scale)', bars)}</figure>` : '',
    charts.length > 0 ? '<h2>Over time</h2>' : '',
    ...charts,
    `<h2>Runs</h2><pre>${esc(`A: ${doc.a.cmdline}\nB: ${doc.b.cmdline}`)}</pre>`,
  ];
  return page(`${doc.scenario} comparison`, body.join('\n'));
}
