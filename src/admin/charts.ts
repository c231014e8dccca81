/**
 * Inline SVG charts drawn on the server: a horizontal bar chart for the device breakdowns and a
 * line chart for active sessions over time. No script, no build step; the page's CSP can stay
 * `default-src 'none'`. Every label goes through `escapeHtml`.
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

/** Active sessions over `[from, to]` as a line with dots at the samples; hour ticks on the x axis. */
export function activityChart(samples: ActivitySample[], from: number, to: number): string {
  const width = 760;
  const height = 220;
  const left = 44;
  const right = 16;
  const topPad = 12;
  const bottom = 28;
  const plotW = width - left - right;
  const plotH = height - topPad - bottom;
  const peak = Math.max(1, ...samples.map((s) => s.activeSessions));
  const yMax = niceCeiling(peak);
  const x = (at: number) => left + ((at - from) / (to - from)) * plotW;
  const y = (n: number) => topPad + plotH - (n / yMax) * plotH;

  const parts: string[] = [];
  for (let i = 0; i <= 4; i++) {
    const value = (yMax / 4) * i;
    const yy = y(value).toFixed(1);
    parts.push(
      `<line x1="${left}" x2="${width - right}" y1="${yy}" y2="${yy}" class="grid"/>`,
      `<text x="${left - 6}" y="${(Number(yy) + 4).toFixed(1)}" text-anchor="end" class="label">${Number.isInteger(value) ? value : value.toFixed(1)}</text>`,
    );
  }
  // The smallest round step that gives at most 8 ticks over the span.
  const span = to - from;
  const step = TICK_STEPS.find((s) => span / s <= 8) ?? TICK_STEPS[TICK_STEPS.length - 1]!;
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
    const xx = x(t).toFixed(1);
    parts.push(
      `<line x1="${xx}" x2="${xx}" y1="${topPad}" y2="${topPad + plotH}" class="grid"/>`,
      `<text x="${xx}" y="${height - 8}" text-anchor="middle" class="label">${clock(t, step < 60_000)}</text>`,
    );
  }
  if (samples.length > 0) {
    const points = samples.map((s) => `${x(s.at).toFixed(1)},${y(s.activeSessions).toFixed(1)}`);
    const first = samples[0]!;
    const last = samples[samples.length - 1]!;
    parts.push(
      `<polygon class="area" points="${x(first.at).toFixed(1)},${y(0).toFixed(1)} ${points.join(' ')} ${x(last.at).toFixed(1)},${y(0).toFixed(1)}"/>`,
      `<polyline class="line" points="${points.join(' ')}"/>`,
      ...samples.map(
        (s) =>
          `<circle cx="${x(s.at).toFixed(1)}" cy="${y(s.activeSessions).toFixed(1)}" r="2.5" class="dot"><title>${new Date(s.at).toISOString()}: ${s.activeSessions} active, ${s.distinctUsers} users</title></circle>`,
      ),
    );
  }
  return `<svg role="img" aria-label="Active sessions from ${clock(from)} to ${clock(to)} UTC" viewBox="0 0 ${width} ${height}" width="100%" preserveAspectRatio="xMidYMid meet" class="activity">${parts.join('')}</svg>`;
}

/** 1, 2, 5 × 10^n at or above `n`, so the y axis has round ticks. */
function niceCeiling(n: number): number {
  const power = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 4, 5, 10]) if (m * power >= n) return m * power;
  return 10 * power;
}
