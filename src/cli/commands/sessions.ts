/**
 * `tessera sessions list [--user ID] [--limit N]` and `tessera sessions revoke ID | --user ID`
 * (ID: the whole session id, or a unique prefix of at least 8 characters).
 */
import { sessionView } from '../../admin/json.js';
import type { SessionRecord } from '../../core/types.js';
import { type CommandContext, EXIT, UsageError } from '../context.js';
import { table, utc } from '../output.js';
import { parseIdOrPrefix, resolveSessionId } from './resolve-id.js';

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 1000;

function limitOf(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_LIMIT;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT)
    throw new UsageError(`--limit must be a whole number from 1 to ${MAX_LIMIT}, not "${raw}"`);
  return n;
}

function userOf(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (raw.trim() === '') throw new UsageError('--user needs a user id');
  return raw;
}

export async function sessionsCommand(context: CommandContext): Promise<number> {
  const [sub, ...rest] = context.args;
  if (sub === 'list') return list({ ...context, args: rest });
  if (sub === 'revoke') return revoke({ ...context, args: rest });
  throw new UsageError(
    sub === undefined
      ? 'sessions needs a sub-command: list or revoke'
      : `unknown sub-command "sessions ${sub}": use list or revoke`,
  );
}

async function list({ args, options, out, store: open, clock }: CommandContext): Promise<number> {
  if (args.length) throw new UsageError(`sessions list takes no argument "${args[0]}"`);
  const limit = limitOf(options.limit);
  const userId = userOf(options.user);
  const store = await open({ migrate: false });
  const now = clock();
  let sessions: SessionRecord[];
  let total: number;
  if (store.capabilities.listAll && typeof store.list === 'function') {
    ({ sessions, total } = await store.list(userId ? { userId, limit } : { limit }, now));
  } else if (userId && store.capabilities.listUser) {
    const all = await store.listUser(userId, now);
    total = all.length;
    sessions = all.slice(0, limit);
  } else {
    const hint = store.capabilities.listUser ? ' (it can list one user: add --user ID)' : '';
    throw new UsageError(`the ${store.name} store cannot list all sessions${hint}`);
  }
  if (options.json) {
    out.json({ total, limit, sessions: sessions.map(sessionView) });
    return EXIT.ok;
  }
  if (sessions.length === 0) {
    out.line(userId ? `No active sessions of ${userId}.` : 'No active sessions.');
    return EXIT.ok;
  }
  const rows = sessions.map((s) => [
    s.id,
    s.userId ?? '(anonymous)',
    s.ip ?? '—',
    [s.device.browser, s.device.os, s.device.type].filter(Boolean).join(' / '),
    utc(s.createdAt),
    utc(s.lastSeenAt),
  ]);
  for (const line of table(['ID', 'USER', 'IP', 'DEVICE', 'CREATED (UTC)', 'LAST SEEN'], rows))
    out.line(line);
  out.line(
    `${sessions.length} of ${total} active session(s)${userId ? ` of ${userId}` : ''}, most recently active first.`,
  );
  return EXIT.ok;
}

async function revoke({ args, options, out, store: open, clock }: CommandContext): Promise<number> {
  const userId = userOf(options.user);
  if (options.limit !== undefined) throw new UsageError('sessions revoke takes no --limit');
  if (userId !== undefined && args.length)
    throw new UsageError('give either a session ID or --user ID, not both');
  if (userId === undefined && args.length !== 1)
    throw new UsageError('sessions revoke needs one session ID, or --user ID');
  const typed = args[0] === undefined ? undefined : parseIdOrPrefix(args[0]);
  const store = await open({ migrate: false });
  if (userId !== undefined) {
    if (!store.capabilities.listUser)
      throw new UsageError(`the ${store.name} store keeps no per-user index: revoke by session ID`);
    const ids = await store.destroyUser(userId, { reason: 'admin', now: clock() });
    // As for one id: nothing to revoke is exit 1, so a script can tell.
    if (options.json) out.json({ userId, revoked: ids.length, ids });
    else if (ids.length) out.line(`Revoked ${ids.length} session(s) of ${userId}.`);
    else out.note(`tessera: ${userId} has no live sessions to revoke`);
    return ids.length ? EXIT.ok : EXIT.failed;
  }
  const now = clock();
  const id = await resolveSessionId(store, typed!, now);
  if (id === null) {
    if (options.json) out.json({ id: null, prefix: typed, revoked: false });
    else out.note(`tessera: no live session id starts with ${typed}`);
    return EXIT.failed;
  }
  const revoked = (await store.destroy(id, 'admin', now)) !== null;
  if (options.json) out.json({ id, revoked });
  else if (revoked) out.line(`Revoked session ${id}.`);
  else out.note(`tessera: no live session ${id} (it ended already, or never existed)`);
  return revoked ? EXIT.ok : EXIT.failed;
}
