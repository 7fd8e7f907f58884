import type { TimelinePoint } from './artillery-report';

/**
 * The bench's chart, as a standalone SVG: per strategy, over the seconds of its rush,
 * (1) answers per second (solid) and holds per second (dashed), (2) p95 latency of wins (solid)
 * and of sold-out answers (dashed). Drawn from Artillery's 10 s `intermediate` periods. Pure.
 */
export interface Series {
  readonly name: string;
  readonly points: readonly TimelinePoint[];
}

const palette = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2'];
const width = 900;
const panelHeight = 260;
const margin = { left: 70, right: 170, top: 40, bottom: 40, gap: 60 };

export function timelineChart(series: readonly Series[], title: string): string {
  const plotWidth = width - margin.left - margin.right;
  const height = margin.top + 2 * panelHeight + margin.gap + margin.bottom;
  const maxSeconds = Math.max(10, ...series.flatMap((s) => s.points.map((point) => point.at + point.width)));
  const x = (seconds: number) => margin.left + (seconds / maxSeconds) * plotWidth;
  const mid = (point: TimelinePoint) => point.at + point.width / 2;

  const throughput = panel({
    top: margin.top,
    label: 'answers/s (solid), holds/s (dashed)',
    max: Math.max(1, ...series.flatMap((s) => s.points.map((point) => point.requestsPerSecond))),
    lines: series.flatMap((s, index) => [
      { color: color(index), dashed: false, values: s.points.map((point) => [mid(point), point.requestsPerSecond] as const) },
      { color: color(index), dashed: true, values: s.points.map((point) => [mid(point), point.winsPerSecond] as const) },
    ]),
    x,
  });
  const latencyTop = margin.top + panelHeight + margin.gap;
  const latency = panel({
    top: latencyTop,
    label: 'p95 latency ms: wins (solid), sold-out (dashed)',
    max: Math.max(1, ...series.flatMap((s) => s.points.flatMap((point) => [point.winLatency.p95 ?? 0, point.soldOutLatency.p95 ?? 0]))),
    lines: series.flatMap((s, index) => [
      { color: color(index), dashed: false, values: defined(s.points.map((point) => [mid(point), point.winLatency.p95] as const)) },
      { color: color(index), dashed: true, values: defined(s.points.map((point) => [mid(point), point.soldOutLatency.p95] as const)) },
    ]),
    x,
  });
  const timeAxis = (top: number) =>
    ticks(maxSeconds)
      .map((t) => `<text x="${x(t).toFixed(1)}" y="${top + panelHeight + 16}" text-anchor="middle">${t}</text>`)
      .join('');
  const legend = series
    .map(
      (s, index) =>
        `<g transform="translate(${width - margin.right + 20},${margin.top + 20 + index * 22})">` +
        `<line x1="0" y1="-4" x2="24" y2="-4" stroke="${color(index)}" stroke-width="2.5"/>` +
        `<text x="32" y="0">${escapeXml(s.name)}</text></g>`,
    )
    .join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${margin.left}" y="22" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    throughput,
    timeAxis(margin.top),
    latency,
    timeAxis(latencyTop),
    `<text x="${margin.left + plotWidth / 2}" y="${height - 8}" text-anchor="middle">seconds since the rush started (10 s Artillery periods)</text>`,
    legend,
    '</svg>',
    '',
  ].join('\n');
}

interface Line {
  readonly color: string;
  readonly dashed: boolean;
  readonly values: readonly (readonly [number, number])[];
}

function panel({ top, label, max, lines, x }: { top: number; label: string; max: number; lines: Line[]; x: (s: number) => number }): string {
  const left = margin.left;
  const right = width - margin.right;
  const yTicks = ticks(max);
  const scaleMax = Math.max(max, yTicks[yTicks.length - 1] ?? max);
  const y = (value: number) => top + panelHeight - (value / scaleMax) * panelHeight;
  const grid = yTicks
    .map(
      (value) =>
        `<line x1="${left}" y1="${y(value).toFixed(1)}" x2="${right}" y2="${y(value).toFixed(1)}" stroke="#e5e5e5"/>` +
        `<text x="${left - 6}" y="${(y(value) + 4).toFixed(1)}" text-anchor="end">${format(value)}</text>`,
    )
    .join('');
  const paths = lines
    .filter((line) => line.values.length > 0)
    .map((line) => {
      const d = line.values.map(([s, v], i) => `${i === 0 ? 'M' : 'L'}${x(s).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
      const dots =
        line.values.length === 1
          ? `<circle cx="${x(line.values[0]![0]).toFixed(1)}" cy="${y(line.values[0]![1]).toFixed(1)}" r="3" fill="${line.color}"/>`
          : '';
      return `<path d="${d}" fill="none" stroke="${line.color}" stroke-width="2"${line.dashed ? ' stroke-dasharray="6 4"' : ''}/>${dots}`;
    })
    .join('');
  return (
    `<g>${grid}` +
    `<line x1="${left}" y1="${top + panelHeight}" x2="${right}" y2="${top + panelHeight}" stroke="#333"/>` +
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + panelHeight}" stroke="#333"/>` +
    `<text x="${left}" y="${top - 8}" font-weight="bold">${escapeXml(label)}</text>${paths}</g>`
  );
}

/** Round tick values from 0 to at least `max`: steps of 1, 2 or 5 × 10^n. */
export function ticks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? 10 * magnitude;
  const result: number[] = [];
  for (let value = 0; value < max + step; value += step) {
    result.push(Number(value.toPrecision(12)));
    if (value >= max) break;
  }
  return result;
}

function defined(values: readonly (readonly [number, number | undefined])[]): (readonly [number, number])[] {
  return values.filter((value): value is readonly [number, number] => value[1] !== undefined);
}

function color(index: number): string {
  return palette[index % palette.length]!;
}

function format(value: number): string {
  return value >= 10_000 ? `${value / 1000}k` : String(value);
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
