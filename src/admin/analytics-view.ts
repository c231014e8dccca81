/**
 * The overview's analytics section: how old the live sessions are, logins in the last hour and
 * per hour over the last day (counted by the store, so every process's logins), and the backend
 * server's own figures where the store reports them (Redis memory and hit ratio).
 */
import { humanBytes, humanDuration, humanRatio } from '../core/analytics.js';
import type { StoreStats } from '../core/types.js';
import { escapeHtml as h } from '../http/responses.js';
import { hourlyChart } from './charts.js';

function card(label: string, value: string, note?: string): string {
  const title = note ? ` title="${h(note)}"` : '';
  return `<div class="card"${title}><div class="n">${h(value)}</div><div class="k">${h(label)}</div></div>`;
}

/** The section, or an empty string when the store reports none of it. */
export function analyticsSection(stats: StoreStats | null): string {
  if (!stats || (!stats.sessionAge && !stats.logins && !stats.server)) return '';
  const cards: string[] = [];
  const notes: string[] = [];
  const age = stats.sessionAge;
  if (age) {
    const sample = age.sampled ? `a random sample of ${age.count} live sessions` : undefined;
    cards.push(
      card('Median session age', age.medianMs === null ? '—' : humanDuration(age.medianMs), sample),
      card('95th percentile age', age.p95Ms === null ? '—' : humanDuration(age.p95Ms), sample),
    );
    if (sample) notes.push(`Session ages are from ${sample}.`);
  }
  if (stats.logins) cards.push(card('Logins, last hour', String(stats.logins.lastHour)));
  if (stats.server) {
    cards.push(
      card('Server memory', humanBytes(stats.server.usedMemoryBytes)),
      card(
        'Keyspace hit ratio',
        humanRatio(stats.server.hitRatio),
        `${stats.server.keyspaceHits} hits, ${stats.server.keyspaceMisses} misses since the server's stats were reset`,
      ),
    );
  }
  const chart = stats.logins
    ? `<div class="charts">${hourlyChart('Logins per hour (UTC, last 24 hours)', stats.logins.perHour)}</div>`
    : '';
  const note = `<p class="muted">Ages are those of the live sessions now; logins are sessions started for a signed-in user, counted by the store for every process.${notes.length ? ` ${notes.join(' ')}` : ''}</p>`;
  return `<h2>Sessions and logins</h2><div class="figures">${cards.join('')}</div>${note}${chart}`;
}
