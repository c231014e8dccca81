/** `tessera stats`: the dashboard's overview numbers for the configured store. */
import { StoreUnavailableError } from '../../core/errors.js';
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
      sessions,
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
  return EXIT.ok;
}
