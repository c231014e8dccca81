/**
 * Redis commands per request from `INFO commandstats`. Commands a Lua script runs inside the server
 * are counted there too, so two figures come out: round trips (what clients sent: EVALSHA counts
 * once) and every command executed, scripts' inner calls included.
 */
import { redisCli } from '../test/support/redis-servers.js';

export type CommandCounts = Map<string, number>;

/** Calls per command since the server started (or since `CONFIG RESETSTAT`). */
export async function commandCounts(port: number): Promise<CommandCounts> {
  const info = await redisCli(['-p', String(port), 'info', 'commandstats']);
  const counts: CommandCounts = new Map();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) counts.set(m[1]!, Number(m[2]));
  return counts;
}

/** Commands only the harness sends (reading stats, loading scripts), never counted. */
const HARNESS = /^(info|config\|.*|ping|client\|.*|hello|select|script\|.*)$/;
const SCRIPT_CALLS = /^(eval|evalsha|eval_ro|evalsha_ro|fcall|fcall_ro)$/;

export interface CommandDelta {
  /** Commands clients sent (a script call counts once). */
  roundTrips: number;
  /** Every command executed, a script's inner calls included. */
  executed: number;
  /** Per command name, for the report. */
  byName: Record<string, number>;
}

/**
 * What ran between two snapshots. Round trips are the script calls when scripts ran (Tessera sends
 * nothing else on these paths), otherwise every command (connect-redis sends plain commands).
 */
export function commandDelta(before: CommandCounts, after: CommandCounts): CommandDelta {
  const byName: Record<string, number> = {};
  let executed = 0;
  let scripts = 0;
  for (const [name, calls] of after) {
    if (HARNESS.test(name)) continue;
    const d = calls - (before.get(name) ?? 0);
    if (d <= 0) continue;
    byName[name] = d;
    executed += d;
    if (SCRIPT_CALLS.test(name)) scripts += d;
  }
  return { roundTrips: scripts > 0 ? scripts : executed, executed, byName };
}
