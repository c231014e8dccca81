/**
 * The Redis server's own figures for `stats()`: `INFO` of every master holding the store's keys,
 * summed. On standalone Redis and Sentinel that is the one server (the Sentinel's current master);
 * on a Cluster every master the client knows, since the buckets spread the sessions over all of
 * them: `usedMemoryBytes` is the Cluster's memory, hits and misses its lookups. The hit ratio is
 * summed hits / (hits + misses), each server's since its stats were reset.
 */
import type { ServerStats } from '../../core/types.js';
import type { ScriptClient } from './client.js';

/** `field:value` lines of an INFO reply. */
function infoFields(reply: unknown): Map<string, string> {
  const text = Buffer.isBuffer(reply) ? reply.toString('utf8') : String(reply ?? '');
  const fields = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1));
  }
  return fields;
}

/** `INFO` (its default sections hold memory and stats) of every master, summed. */
export async function serverStats(client: ScriptClient): Promise<ServerStats> {
  let usedMemoryBytes = 0;
  let hits = 0;
  let misses = 0;
  for (const reply of await client.eachMaster(['INFO'])) {
    const f = infoFields(reply);
    usedMemoryBytes += Number(f.get('used_memory') ?? 0);
    hits += Number(f.get('keyspace_hits') ?? 0);
    misses += Number(f.get('keyspace_misses') ?? 0);
  }
  return {
    usedMemoryBytes,
    keyspaceHits: hits,
    keyspaceMisses: misses,
    hitRatio: hits + misses > 0 ? hits / (hits + misses) : null,
  };
}
