// Inline SVG charts, drawn on the server as strings: the report page must open from a file with
// no scripts, fonts or network, so there is no charting library; each chart is a few scales,
// axes and marks. Every mark carries a <title>, which browsers show on hover without script.

/** Categorical colours (ColorBrewer Dark2 + Set1 picks): distinct on white and in greyscale print. */
export const PALETTE = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#377eb8', '#e41a1c', '#666666'];

/** More points than this per series are thinned (every n-th kept, the last always): a page with
 * a polyline of 100k points is slow and no more readable than one of 600. */
const MAX_POINTS = 600;

export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** Fixed precision in SVG coordinates keeps the file small and diff-stable. */
function n(x: number): string {
  return Number.isFinite(x) ? String(Math.round(x * 10) / 10) : '0';
}

/** A colour for the i-th of `count` ordered groups: the palette while it lasts, then a hue ramp
 * so that neighbouring layers get neighbouring colours. */
export function groupColor(i: number, count: number): string {
  if (count <= PALETTE.length) return PALETTE[i % PALETTE.length] as string;
  const hue = Math.round(240 - (i / Math.max(1, count - 1)) * 240);
  return `hsl(${hue}, 70%, 42%)`;
}

/** Round tick values covering [lo, hi], about `count` of them (steps of 1, 2 or 5 × 10^k). */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

function formatTick(v: number, log: boolean): string {
  if (log) return v === 1 ? '1' : v.toExponential(0).replace('e+', 'e');
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(1);
  return String(Number(v.toPrecision(6)));
}

function thin<T>(xs: T[]): T[] {
  if (xs.length <= MAX_POINTS) return xs;
  const every = Math.ceil(xs.length / MAX_POINTS);
  const out = xs.filter((_, i) => i % every === 0);
  if (out[out.length - 1] !== xs[xs.length - 1]) out.push(xs[xs.length - 1] as T);
  return out;
}

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

function linear(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const span = d1 - d0 || 1;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

function padDomain(lo: number, hi: number, share: number): [number, number] {
  if (!(hi > lo)) {
    const d = Math.abs(lo) * 0.1 || 1;
    return [lo - d, hi + d];
  }
  const d = (hi - lo) * share;
  return [lo - d, hi + d];
}

function open(f: Frame, label: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="${esc(label)}" width="${f.width}" height="${f.height}" viewBox="0 0 ${f.width} ${f.height}"><title>${esc(label)}</title>`;
}

function yAxis(f: Frame, ticks: number[], y: (v: number) => number, log: boolean, label: string): string {
  const parts = ticks.map(
    (t) =>
      `<line class="gridline" x1="${f.left}" x2="${f.width - f.right}" y1="${n(y(t))}" y2="${n(y(t))}"/>` +
      `<text class="tick" x="${f.left - 6}" y="${n(y(t) + 4)}" text-anchor="end">${esc(formatTick(log ? 10 ** t : t, log))}</text>`,
  );
  const cy = (f.top + f.height - f.bottom) / 2;
  parts.push(`<text class="axis-label" transform="translate(14 ${n(cy)}) rotate(-90)" text-anchor="middle">${esc(label)}</text>`);
  parts.push(`<line class="axis" x1="${f.left}" x2="${f.left}" y1="${f.top}" y2="${f.height - f.bottom}"/>`);
  return parts.join('');
}

export interface Series {
  name: string;
  color: string;
  points: Array<[x: number, y: number]>;
}

export interface Band {
  from: number;
  to: number;
  label: string;
}

export interface LineChartOptions {
  label: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Draw y on a log10 scale; points with y ≤ 0 are left out. @default false */
  logY?: boolean;
  /** Shaded x ranges, e.g. training phases. @default [] */
  bands?: Band[];
  /** @default 420 */
  width?: number;
  /** @default 220 */
  height?: number;
}

/** A line chart of one or more series over a shared x axis. */
export function lineChart(o: LineChartOptions): string {
  const f: Frame = { width: o.width ?? 420, height: o.height ?? 220, left: 58, right: 12, top: 22, bottom: 36 };
  const log = o.logY ?? false;
  const series = o.series.map((s) => ({
    ...s,
    points: thin(s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!log || y > 0)).map(([x, y]): [number, number] => [x, log ? Math.log10(y) : y])),
  }));
  const all = series.flatMap((s) => s.points);
  let svg = open(f, o.label);
  if (all.length === 0) {
    return `${svg}<text class="empty" x="${f.width / 2}" y="${f.height / 2}" text-anchor="middle">no data recorded</text></svg>`;
  }
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = log ? padDomain(Math.floor(Math.min(...ys) * 4) / 4, Math.ceil(Math.max(...ys) * 4) / 4, 0.02) : padDomain(Math.min(...ys), Math.max(...ys), 0.06);
  const x = linear(x0, x1 > x0 ? x1 : x0 + 1, f.left, f.width - f.right);
  const y = linear(y0, y1, f.height - f.bottom, f.top);
  for (const b of o.bands ?? []) {
    const bx0 = Math.max(f.left, x(b.from));
    const bx1 = Math.min(f.width - f.right, x(b.to));
    svg += `<rect class="band" x="${n(bx0)}" y="${f.top}" width="${n(Math.max(0, bx1 - bx0))}" height="${f.height - f.top - f.bottom}"><title>${esc(b.label)}</title></rect>`;
    svg += `<text class="band-label" x="${n(bx0 + 3)}" y="${f.top + 11}">${esc(b.label)}</text>`;
  }
  const yTicks = log ? niceTicks(Math.ceil(y0), Math.floor(y1), Math.max(1, Math.floor(y1) - Math.ceil(y0))) : niceTicks(y0, y1, 4);
  svg += yAxis(f, yTicks.filter((t) => t >= y0 && t <= y1), y, log, o.yLabel);
  for (const t of niceTicks(x0, x1, 5).filter((t) => t >= x0 && t <= x1)) {
    svg += `<text class="tick" x="${n(x(t))}" y="${f.height - f.bottom + 14}" text-anchor="middle">${esc(formatTick(t, false))}</text>`;
  }
  svg += `<line class="axis" x1="${f.left}" x2="${f.width - f.right}" y1="${f.height - f.bottom}" y2="${f.height - f.bottom}"/>`;
  svg += `<text class="axis-label" x="${n((f.left + f.width - f.right) / 2)}" y="${f.height - 4}" text-anchor="middle">${esc(o.xLabel)}</text>`;
  for (const s of series) {
    if (s.points.length === 0) continue;
    const pts = s.points.map(([px, py]) => `${n(x(px))},${n(y(py))}`).join(' ');
    svg += `<polyline class="series" fill="none" stroke="${esc(s.color)}" points="${pts}"><title>${esc(s.name)}</title></polyline>`;
    if (s.points.length === 1) {
      const [[px, py]] = s.points as [[number, number]];
      svg += `<circle cx="${n(x(px))}" cy="${n(y(py))}" r="2.5" fill="${esc(s.color)}"><title>${esc(s.name)}</title></circle>`;
    }
  }
  return `${svg}</svg>`;
}

export interface ScoreColumn {
  name: string;
  color: string;
  isBaseline: boolean;
  ensemble: number | null;
  /** Single-seed scores; null entries (failed runs) are not drawn. */
  seeds: Array<{ seed: number; score: number | null }>;
  /** The Δ interval moved onto the baseline's ensemble value, with the p value; absent for the baseline. */
  interval?: { low: number; high: number; p: number; delta: number };
  /** The same with the training seeds resampled too (drawn dashed, just left of `interval`). */
  seedAwareInterval?: { low: number; high: number; p: number; delta: number };
}

/** Ensemble MAP@k per ablation: a dot per ensemble, hollow dots per seed, an interval bar per
 * comparison and a dashed line at the baseline's ensemble. */
export function scoreChart(columns: ScoreColumn[], opts: { label: string; yLabel: string; baseline: number | null; confidence: string }): string {
  const slot = 130;
  const f: Frame = { width: Math.max(640, 70 + slot * columns.length + 20), height: 320, left: 70, right: 20, top: 26, bottom: 64 };
  const values: number[] = [];
  for (const c of columns) {
    if (c.ensemble !== null) values.push(c.ensemble);
    for (const s of c.seeds) if (s.score !== null) values.push(s.score);
    if (c.interval) values.push(c.interval.low, c.interval.high);
    if (c.seedAwareInterval) values.push(c.seedAwareInterval.low, c.seedAwareInterval.high);
  }
  if (opts.baseline !== null) values.push(opts.baseline);
  let svg = open(f, opts.label);
  if (values.length === 0) return `${svg}<text class="empty" x="${f.width / 2}" y="${f.height / 2}" text-anchor="middle">no scores: every run failed</text></svg>`;
  const [y0, y1] = padDomain(Math.min(...values), Math.max(...values), 0.12);
  const y = linear(y0, y1, f.height - f.bottom, f.top);
  svg += yAxis(f, niceTicks(y0, y1, 5).filter((t) => t >= y0 && t <= y1), y, false, opts.yLabel);
  svg += `<line class="axis" x1="${f.left}" x2="${f.width - f.right}" y1="${f.height - f.bottom}" y2="${f.height - f.bottom}"/>`;
  if (opts.baseline !== null) {
    const by = n(y(opts.baseline));
    svg += `<line class="baseline" x1="${f.left}" x2="${f.width - f.right}" y1="${by}" y2="${by}"><title>baseline ensemble ${opts.baseline.toFixed(3)}</title></line>`;
  }
  columns.forEach((c, i) => {
    const cx = f.left + slot * i + slot / 2 + 10;
    const label = c.isBaseline ? `${c.name} (baseline)` : c.name;
    svg += `<text class="category" x="${n(cx)}" y="${f.height - f.bottom + 18}" text-anchor="middle">${esc(label)}</text>`;
    if (c.interval) {
      const { low, high, p, delta } = c.interval;
      const title = `${c.name}: Δ ${delta >= 0 ? '+' : ''}${delta.toFixed(3)}, ${opts.confidence} CI of Δ [${low.toFixed(3)}, ${high.toFixed(3)}] on the baseline's scale, p ${p < 0.001 ? '< 0.001' : p.toFixed(3)}`;
      const [ly, hy] = [y(low), y(high)];
      svg += `<g class="interval" stroke="${esc(c.color)}"><title>${esc(title)}</title><line x1="${n(cx)}" x2="${n(cx)}" y1="${n(ly)}" y2="${n(hy)}"/><line x1="${n(cx - 8)}" x2="${n(cx + 8)}" y1="${n(ly)}" y2="${n(ly)}"/><line x1="${n(cx - 8)}" x2="${n(cx + 8)}" y1="${n(hy)}" y2="${n(hy)}"/></g>`;
      svg += `<text class="p-label" x="${n(cx)}" y="${n(Math.min(hy, ly) - 6)}" text-anchor="middle">p ${esc(p < 0.001 ? '< 0.001' : p.toFixed(3))}</text>`;
    }
    if (c.seedAwareInterval) {
      const { low, high, p } = c.seedAwareInterval;
      const title = `${c.name}, seeds resampled too: ${opts.confidence} CI of Δ [${low.toFixed(3)}, ${high.toFixed(3)}] on the baseline's scale, p ${p < 0.001 ? '< 0.001' : p.toFixed(3)}`;
      const [ly, hy] = [y(low), y(high)];
      // Between the seeds' row and the ensemble dot: the value label sits right of the dot.
      const sx = cx - 12;
      svg += `<g class="interval seed-aware" stroke="${esc(c.color)}"><title>${esc(title)}</title><line x1="${n(sx)}" x2="${n(sx)}" y1="${n(ly)}" y2="${n(hy)}"/><line x1="${n(sx - 4)}" x2="${n(sx + 4)}" y1="${n(ly)}" y2="${n(ly)}"/><line x1="${n(sx - 4)}" x2="${n(sx + 4)}" y1="${n(hy)}" y2="${n(hy)}"/></g>`;
    }
    const scored = c.seeds.filter((s) => s.score !== null);
    scored.forEach((s, j) => {
      // Seeds sit in a short row left of the ensemble so they never hide it or the interval.
      const sx = cx - 22 - (scored.length - 1 - j) * 7;
      svg += `<circle class="seed" cx="${n(sx)}" cy="${n(y(s.score as number))}" r="3.5" stroke="${esc(c.color)}"><title>${esc(`${c.name} seed ${s.seed}: ${(s.score as number).toFixed(3)}`)}</title></circle>`;
    });
    if (c.ensemble !== null) {
      svg += `<circle class="ensemble" cx="${n(cx)}" cy="${n(y(c.ensemble))}" r="5.5" fill="${esc(c.color)}"><title>${esc(`${c.name} ensemble: ${c.ensemble.toFixed(3)}`)}</title></circle>`;
      svg += `<text class="value" x="${n(cx + 10)}" y="${n(y(c.ensemble) + 4)}">${c.ensemble.toFixed(3)}</text>`;
    } else {
      svg += `<text class="empty" x="${n(cx)}" y="${n((f.top + f.height - f.bottom) / 2)}" text-anchor="middle">no ensemble</text>`;
    }
  });
  // Legend along the bottom: what each mark means.
  const ly = f.height - 14;
  svg +=
    `<g class="legend"><circle class="ensemble" cx="${f.left + 6}" cy="${ly - 4}" r="5" fill="#444"/><text x="${f.left + 16}" y="${ly}">ensemble</text>` +
    `<circle class="seed" cx="${f.left + 92}" cy="${ly - 4}" r="3.5" stroke="#444"/><text x="${f.left + 100}" y="${ly}">single seed</text>` +
    `<line class="baseline" x1="${f.left + 184}" x2="${f.left + 212}" y1="${ly - 4}" y2="${ly - 4}"/><text x="${f.left + 218}" y="${ly}">baseline ensemble</text>` +
    `<line stroke="#444" stroke-width="2" x1="${f.left + 340}" x2="${f.left + 340}" y1="${ly - 10}" y2="${ly + 2}"/><text x="${f.left + 348}" y="${ly}">${esc(opts.confidence)} CI of Δ, at baseline + Δ</text></g>`;
  return `${svg}</svg>`;
}
