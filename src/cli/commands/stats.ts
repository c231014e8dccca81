/** `tessera stats`: the dashboard's overview numbers for the configured store. */
import { humanBytes, humanDuration, humanRatio, statsForJson } from '../../core/analytics.js';
import { StoreUnavailableError } from '../../core/errors.js';
import type { StoreStats } from '../../core/types.js';
import type { CommandContext } from '../context.js';
import { EXIT } from '../context.js';
import { counts } from '../output.js';

export async function statsCommand({ out, options, store: open, clock }: CommandContext) {
  const store = await open({ migrate: false });
  const now = clock();
  // stats() fails with the store's typed error when the backend is down; health() only reports.
  const sessions =
    store.capabilities.stats && typeof store.stats === 'function' ? await store.stats(now) : null;
  const health = await store.health();
  if (!health.ok)
    throw new StoreUnavailableError(store.name, undefined, health.detail ?? 'health check failed');
  if (options.json) {
    out.json({
      generatedAt: new Date(now).toISOString(),
      store: store.name,
      latencyMs: health.latencyMs ?? null,
      sessions: statsForJson(sessions),
    });
    return EXIT.ok;
  }
  out.line(`store              ${store.name}`);
  if (!sessions) {
    out.line(`The ${store.name} store cannot count its sessions: there are no numbers to show.`);
    return EXIT.ok;
  }
  out.line(`active sessions    ${sessions.activeSessions}`);
  out.line(`distinct users     ${sessions.distinctUsers}`);
  out.line(`anonymous          ${sessions.anonymousSessions}`);
  out.line(`by browser         ${counts(sessions.byBrowser)}`);
  out.line(`by OS              ${counts(sessions.byOs)}`);
  out.line(`by device type     ${counts(sessions.byDeviceType)}`);
  for (const line of analyticsLines(sessions)) out.line(line);
  return EXIT.ok;
}

/** The analytics a store reports (session age, logins per hour, the server's figures). */
function analyticsLines(stats: StoreStats): string[] {
  const lines: string[] = [];
  const age = stats.sessionAge;
  if (age && age.medianMs !== null && age.p95Ms !== null) {
    const over = age.sampled
      ? `a sample of ${age.count} live sessions`
      : `${age.count} live sessions`;
    lines.push(
      `session age        median ${humanDuration(age.medianMs)}, p95 ${humanDuration(age.p95Ms)} (${over})`,
    );
  } else if (age) lines.push('session age        — (no live session)');
  if (stats.logins) {
    lines.push(`logins, last hour  ${stats.logins.lastHour}`);
    const hours = stats.logins.perHour.map((h) => h.count).join(' ');
    lines.push(`logins per hour    ${hours}  (UTC, last 24 h, oldest first)`);
  }
  if (stats.server) {
    lines.push(`server memory      ${humanBytes(stats.server.usedMemoryBytes)}`);
    lines.push(
      `keyspace hit ratio ${humanRatio(stats.server.hitRatio)} (${stats.server.keyspaceHits} hits, ${stats.server.keyspaceMisses} misses)`,
    );
  }
  return lines;
}
