/** Small, dependency-free SVG charts for the HTML report. */

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

/** Escape text for HTML and SVG. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** 1, 2, 5 × 10^k ticks covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / target;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(+v.toPrecision(12));
  return out;
}

function short(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${+(v / 1e9).toPrecision(3)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return `${+v.toPrecision(3)}`;
}

/** One line of a chart. */
export interface ChartLine {
  readonly label: string;
  readonly points: readonly (readonly [number, number])[];
}

/** A line chart; x is virtual time in ns, shown in ms. */
export function lineChart(title: string, unit: string, lines: readonly ChartLine[]): string {
  const W = 640;
  const H = 260;
  const L = 64;
  const R = 16;
  const T = 28;
  const B = 40;
  const all = lines.flatMap((l) => l.points);
  const xs = all.map((p) => p[0] / 1e6);
  const ys = all.map((p) => p[1]);
  const x0 = Math.min(0, ...xs);
  const x1 = Math.max(x0 + 1e-9, ...xs);
  const y0 = Math.min(0, ...ys);
  const y1 = Math.max(y0 + 1, ...ys);
  const sx = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const sy = (y: number) => H - B - ((y - y0) / (y1 - y0)) * (H - T - B);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`,
    `<text x="${L}" y="18" font-size="13" font-weight="bold">${esc(title)}</text>`,
  ];
  for (const t of niceTicks(y0, y1)) {
    parts.push(
      `<line x1="${L}" x2="${W - R}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#e5e5e5"/>`,
      `<text x="${L - 6}" y="${(sy(t) + 4).toFixed(1)}" font-size="11" text-anchor="end">${short(t)}</text>`,
    );
  }
  for (const t of niceTicks(x0, x1)) {
    parts.push(
      `<text x="${sx(t).toFixed(1)}" y="${H - B + 16}" font-size="11" text-anchor="middle">${short(t)}</text>`,
    );
  }
  parts.push(
    `<text x="${(L + W - R) / 2}" y="${H - 6}" font-size="11" text-anchor="middle">virtual time (ms)</text>`,
    `<text x="12" y="${(T + H - B) / 2}" font-size="11" transform="rotate(-90 12 ${(T + H - B) / 2})" text-anchor="middle">${esc(unit)}</text>`,
    `<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="#333"/>`,
    `<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="#333"/>`,
  );
  lines.forEach((line, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const pts = line.points
      .map((p) => `${sx(p[0] / 1e6).toFixed(1)},${sy(p[1]).toFixed(1)}`)
      .join(' ');
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${pts}"/>`);
    parts.push(
      `<rect x="${W - R - 150}" y="${T + 4 + i * 16}" width="10" height="10" fill="${color}"/>`,
      `<text x="${W - R - 136}" y="${T + 13 + i * 16}" font-size="11">${esc(line.label)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}

/** Horizontal bars of B/A ratios on a log scale, 1x marked. */
export function ratioChart(
  title: string,
  bars: readonly { label: string; ratio: number }[],
): string {
  const W = 640;
  const rowH = 22;
  const L = 220;
  const H = 40 + bars.length * rowH;
  const maxLog = Math.max(1, ...bars.map((b) => Math.abs(Math.log10(Math.max(b.ratio, 1e-9)))));
  const mid = L + (W - L - 20) / 2;
  const scale = (W - L - 20) / 2 / maxLog;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">`,
    `<text x="8" y="18" font-size="13" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${mid}" x2="${mid}" y1="26" y2="${H - 4}" stroke="#333"/>`,
    `<text x="${mid}" y="${H - 2}" font-size="10" text-anchor="middle">1x</text>`,
  ];
  bars.forEach((b, i) => {
    const y = 30 + i * rowH;
    const w = Math.log10(Math.max(b.ratio, 1e-9)) * scale;
    const x = w >= 0 ? mid : mid + w;
    parts.push(
      `<text x="${L - 8}" y="${y + 14}" font-size="11" text-anchor="end">${esc(b.label)}</text>`,
      `<rect x="${x.toFixed(1)}" y="${y + 3}" width="${Math.abs(w).toFixed(1)}" height="14" fill="${w >= 0 ? PALETTE[1] : PALETTE[0]}"/>`,
      `<text x="${(w >= 0 ? mid + w + 4 : mid + w - 4).toFixed(1)}" y="${y + 14}" font-size="10" text-anchor="${w >= 0 ? 'start' : 'end'}">${b.ratio.toPrecision(3)}x</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('\n');
}
