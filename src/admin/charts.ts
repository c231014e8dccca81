/**
 * Inline SVG charts drawn on the server: a horizontal bar chart for the device breakdowns and a
 * line chart for active sessions over time. No script, no build step; the page's CSP can stay
 * `default-src 'none'`. Both fit a phone: the bar chart scales down from 360 units (CSS
 * `max-width:100%`), the line chart stretches with text at a fixed size. Every label goes through
 * `escapeHtml`.
 */
import { escapeHtml } from '../http/responses.js';
import type { ActivitySample } from './history.js';

const BAR_HEIGHT = 22;
const BAR_GAP = 6;

/** Bars sorted by count, largest first; `max` rows, the rest summed into "other". */
export function barChart(title: string, counts: Record<string, number>, max = 8): string {
  const entries = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  if (entries.length > max) {
    const rest = entries.splice(max - 1);
    entries.push(['other', rest.reduce((sum, [, n]) => sum + n, 0)]);
  }
  if (entries.length === 0)
    return `<figure class="chart"><figcaption>${escapeHtml(title)}</figcaption><p class="muted">No active sessions.</p></figure>`;
  const width = 360;
  const labelWidth = 110;
  const barSpace = width - labelWidth - 50;
  const top = Math.max(...entries.map(([, n]) => n));
  const height = entries.length * (BAR_HEIGHT + BAR_GAP);
  const rows = entries
    .map(([label, n], i) => {
      const y = i * (BAR_HEIGHT + BAR_GAP);
      const w = Math.max(2, Math.round((n / top) * barSpace));
      return (
        `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end" class="label">${escapeHtml(truncate(label, 16))}</text>` +
        `<rect x="${labelWidth}" y="${y}" width="${w}" height="${BAR_HEIGHT}" rx="3" class="bar"><title>${escapeHtml(label)}: ${n}</title></rect>` +
        `<text x="${labelWidth + w + 6}" y="${y + 15}" class="value">${n}</text>`
      );
    })
    .join('');
  return `<figure class="chart"><figcaption>${escapeHtml(title)}</figcaption><svg role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${rows}</svg></figure>`;
}

function truncate(text: string, length: number): string {
  return text.length > length ? `${text.slice(0, length - 1)}…` : text;
}

const TICK_STEPS = [1, 5, 15, 60, 300, 900, 3600, 3 * 3600, 6 * 3600, 24 * 3600].map(
  (s) => s * 1000,
);

function clock(at: number, seconds = false): string {
  return new Date(at).toISOString().slice(11, seconds ? 19 : 16);
}

/**
 * Active sessions over `[from, to]` as a line with dots at the samples, time ticks on the x axis.
 *
 * The plot has no viewBox: its x positions are percentages and its text is in CSS pixels, so it
 * stretches to any width while the labels keep their size (a scaled 760-wide drawing on a 360 px
 * phone would shrink them to 4 px). The y labels sit in a fixed-width column of their own; the
 * area and the line, which need point lists, live in a nested SVG stretched horizontally. On
 * narrow screens every other tick label is hidden (`.odd`) so they do not collide.
 */
export function activityChart(samples: ActivitySample[], from: number, to: number): string {
  const height = 220;
  const axisWidth = 44;
  const topPad = 12;
  const bottom = 28;
  const plotH = height - topPad - bottom;
  const peak = Math.max(1, ...samples.map((s) => s.activeSessions));
  const yMax = niceCeiling(peak);
  const xp = (at: number) => (((at - from) / (to - from)) * 100).toFixed(2);
  const y = (n: number) => (topPad + plotH - (n / yMax) * plotH).toFixed(1);

  const axis: string[] = [];
  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const value = (yMax / 4) * i;
    const yy = y(value);
    parts.push(`<line x1="0" x2="100%" y1="${yy}" y2="${yy}" class="grid"/>`);
    axis.push(
      `<text x="${axisWidth - 6}" y="${(Number(yy) + 4).toFixed(1)}" text-anchor="end" class="label">${Number.isInteger(value) ? value : value.toFixed(1)}</text>`,
    );
  }
  // The smallest round step that gives at most 8 ticks over the span.
  const span = to - from;
  const step = TICK_STEPS.find((s) => span / s <= 8) ?? TICK_STEPS[TICK_STEPS.length - 1]!;
  let n = 0;
  for (let t = Math.ceil(from / step) * step; t <= to; t += step, n++) {
    const xx = `${xp(t)}%`;
    parts.push(
      `<line x1="${xx}" x2="${xx}" y1="${topPad}" y2="${topPad + plotH}" class="grid"/>`,
      `<text x="${xx}" y="${height - 8}" text-anchor="middle" class="label tick${n % 2 ? ' odd' : ''}">${clock(t, step < 60_000)}</text>`,
    );
  }
  if (samples.length > 0) {
    // The nested drawing is 1000 units wide, stretched to the plot's width.
    const ux = (at: number) => (((at - from) / (to - from)) * 1000).toFixed(1);
    const points = samples.map((s) => `${ux(s.at)},${y(s.activeSessions)}`);
    const first = samples[0]!;
    const last = samples[samples.length - 1]!;
    parts.push(
      `<svg x="0" y="0" width="100%" height="${height}" viewBox="0 0 1000 ${height}" preserveAspectRatio="none" aria-hidden="true">`,
      `<polygon class="area" points="${ux(first.at)},${y(0)} ${points.join(' ')} ${ux(last.at)},${y(0)}"/>`,
      `<polyline class="line" vector-effect="non-scaling-stroke" points="${points.join(' ')}"/></svg>`,
      ...samples.map(
        (s) =>
          `<circle cx="${xp(s.at)}%" cy="${y(s.activeSessions)}" r="3" class="dot"><title>${new Date(s.at).toISOString()}: ${s.activeSessions} active, ${s.distinctUsers} users</title></circle>`,
      ),
    );
  }
  return `<div class="activity"><svg class="yaxis" width="${axisWidth}" height="${height}" aria-hidden="true">${axis.join('')}</svg><svg role="img" aria-label="Active sessions from ${clock(from)} to ${clock(to)} UTC" class="plot" width="100%" height="${height}">${parts.join('')}</svg></div>`;
}

/** 1, 2, 5 × 10^n at or above `n`, so the y axis has round ticks. */
function niceCeiling(n: number): number {
  const power = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 4, 5, 10]) if (m * power >= n) return m * power;
  return 10 * power;
}

/**
 * Logins per clock hour as columns, oldest first, the current hour last; every sixth hour is
 * labelled (UTC). Scales down with the page like the bar chart.
 */
export function hourlyChart(title: string, perHour: { start: number; count: number }[]): string {
  const width = 360;
  const height = 140;
  const bottom = 20;
  const plotH = height - bottom - 14;
  const column = width / Math.max(1, perHour.length);
  const top = Math.max(1, ...perHour.map((h) => h.count));
  const parts = perHour.map((hour, i) => {
    const h = hour.count === 0 ? 0 : Math.max(2, Math.round((hour.count / top) * plotH));
    const x = (i * column + 1).toFixed(1);
    const bar = `<rect x="${x}" y="${height - bottom - h}" width="${(column - 2).toFixed(1)}" height="${h}" rx="2" class="bar"><title>${clock(hour.start)} UTC: ${hour.count}</title></rect>`;
    const label =
      i % 6 === 0
        ? `<text x="${x}" y="${height - 5}" class="label">${clock(hour.start)}</text>`
        : '';
    return bar + label;
  });
  const peak = `<text x="0" y="10" class="label">peak ${Math.max(0, ...perHour.map((h) => h.count))}</text>`;
  return `<figure class="chart"><figcaption>${escapeHtml(title)}</figcaption><svg role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}">${peak}${parts.join('')}</svg></figure>`;
}
