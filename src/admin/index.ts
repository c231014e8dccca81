/**
 * `tessera-session/admin`: the admin dashboard as one Fetch-style handler, `(request, { session }) =>
 * Response`, mounted through any adapter. It serves server-rendered pages (overview, sessions,
 * audit trail) and the JSON API behind them under `<basePath>/api/…`. Every request needs a live
 * session that `authorize` accepts; every state-changing request needs that session's CSRF token.
 */
import {
  BadRequestError,
  ConfigError,
  StoreUnavailableError,
  TesseraError,
} from '../core/errors.js';
import type { Session, SessionManager } from '../core/manager-api.js';
import type { SessionData, SessionRecord } from '../core/types.js';
import { ActivityHistory } from './history.js';
import { sessionView, terminatedView } from './json.js';
import { decodeSegment, readPost } from './requests.js';
import { auditPage, messagePage, overviewPage, type PageFrame, sessionsPage } from './views.js';

export { ActivityHistory, type ActivitySample } from './history.js';
export type { SessionView, TerminatedView } from './json.js';
export { sendFetchResponse, toFetchRequest } from './node.js';

/** What the host passes for the current request: its Tessera session (a record or `req.session`). */
export interface AdminContext {
  session: SessionRecord | { readonly record: Readonly<SessionRecord> | null } | null | undefined;
}

export interface AdminHandlerOptions<Data extends SessionData = SessionData> {
  /** The app's session manager: its store is listed, its counters shown, its CSRF check used. */
  // biome-ignore lint/suspicious/noExplicitAny: any manager's data type is fine here
  manager: SessionManager<Data> | SessionManager<any>;
  /** Decides whether this (live, logged-in) session may use the dashboard. Required. */
  authorize: (session: Session<Data>) => boolean | Promise<boolean>;
  /** Where the handler is mounted; paths outside it are a 404. @default "/admin" */
  basePath?: string;
  /** Where a visitor without a session is sent (HTML only; the API answers 401). @default none: 401 page */
  loginUrl?: string;
  /** Rows per page in the sessions and audit tables. @default 25 */
  pageSize?: number;
  /** Span of the active-sessions chart. @default 6 hours (21_600_000 ms) */
  historyWindow?: number;
  /** The chart keeps at most one sample per this interval. @default 60_000 ms */
  sampleInterval?: number;
  /** Name of the form field carrying the CSRF token. @default "_csrf" */
  csrfField?: string;
  /** Name of the header carrying the CSRF token (JSON API). @default "x-csrf-token" */
  csrfHeader?: string;
  /** The time source. @default Date.now */
  clock?: () => number;
}

export type AdminHandler = ((request: Request, context: AdminContext) => Promise<Response>) & {
  /** Samples the active-session count now (call it from a timer to fill the chart while idle). */
  sample(): Promise<void>;
  readonly history: ActivityHistory;
  readonly basePath: string;
};

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy':
    "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};
const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};
const MAX_API_LIMIT = 500;

function recordOf(context: AdminContext | undefined): SessionRecord | null {
  const session = context?.session;
  if (!session) return null;
  if ('record' in session) return (session.record as SessionRecord | null) ?? null;
  return session;
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });
}

function html(status: number, body: string): Response {
  return new Response(body, { status, headers: PAGE_HEADERS });
}

function redirect(location: string): Response {
  return new Response(null, { status: 303, headers: { location, 'cache-control': 'no-store' } });
}

function positiveInt(raw: string | null, fallback: number, max: number): number {
  const n = raw === null ? Number.NaN : Number(raw);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, max) : fallback;
}

/** Builds the dashboard handler. */
export function createAdminHandler<Data extends SessionData = SessionData>(
  options: AdminHandlerOptions<Data>,
): AdminHandler {
  const manager = options.manager as SessionManager<Data>;
  if (typeof options.authorize !== 'function')
    throw new ConfigError(
      'authorize',
      'is required: a function (session) => boolean deciding who may open the dashboard',
    );
  const basePath = (options.basePath ?? '/admin').replace(/\/+$/, '');
  const pageSize = options.pageSize ?? 25;
  const window = options.historyWindow ?? 6 * 3_600_000;
  const interval = options.sampleInterval ?? 60_000;
  const csrfField = options.csrfField ?? '_csrf';
  const csrfHeader = options.csrfHeader ?? 'x-csrf-token';
  const clock = options.clock ?? Date.now;
  const history = new ActivityHistory(window, interval);
  const store = manager.store;

  const frame = (tab: PageFrame['tab'], title: string, notice?: PageFrame['notice']) => ({
    title,
    basePath,
    tab,
    storeName: store.name,
    notice,
  });

  async function overview() {
    const now = clock();
    const [stats, health] = await Promise.all([manager.stats(), manager.health()]);
    if (stats.sessions)
      history.record({
        at: now,
        activeSessions: stats.sessions.activeSessions,
        distinctUsers: stats.sessions.distinctUsers,
      });
    return { now, stats, health, samples: history.since(now - window) };
  }

  const listable = () => store.capabilities.listAll && typeof store.list === 'function';
  const auditable = () => store.capabilities.audit && typeof store.listTerminated === 'function';

  async function listSessions(user: string, offset: number, limit: number) {
    const query = user ? { userId: user, offset, limit } : { offset, limit };
    const result = await store.list!(query, clock());
    return { total: result.total, sessions: result.sessions.map(sessionView) };
  }

  async function listAudit(offset: number, limit: number) {
    const result = await store.listTerminated!({ offset, limit }, clock());
    return { total: result.total, sessions: result.sessions.map(terminatedView) };
  }

  async function handle(request: Request, context: AdminContext): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname;
    if (path !== basePath && !path.startsWith(`${basePath}/`))
      return json(404, { error: 'not_found' });
    const route = path.slice(basePath.length).replace(/\/+$/, '') || '/';
    const api = route === '/api' || route.startsWith('/api/');
    const method = request.method.toUpperCase();

    const session = recordOf(context);
    if (!session) {
      if (api) return json(401, { error: 'unauthenticated', message: 'log in first' });
      if (options.loginUrl) return redirect(options.loginUrl);
      return html(
        401,
        messagePage(
          frame('overview', 'Log in'),
          'Log in first',
          'The admin dashboard needs a logged-in admin session.',
        ),
      );
    }
    if (!(await options.authorize(session as Session<Data>))) {
      if (api)
        return json(403, { error: 'forbidden', message: 'this session may not use the admin API' });
      return html(
        403,
        messagePage(
          frame('overview', 'Forbidden'),
          'Forbidden',
          'This account may not open the admin dashboard.',
        ),
      );
    }

    if (method === 'POST') {
      const { form, csrf } = await readPost(request, { header: csrfHeader, field: csrfField });
      if (!manager.verifyCsrf(session as Session<Data>, csrf)) {
        const message = 'the CSRF token is missing or wrong: reload the page and try again';
        return api
          ? json(403, { error: 'csrf', message })
          : html(403, messagePage(frame('sessions', 'Forbidden'), 'Request refused', message));
      }
      return action(route, api, form);
    }
    if (method !== 'GET' && method !== 'HEAD')
      return new Response(null, { status: 405, headers: { allow: 'GET, HEAD, POST' } });
    return api ? apiGet(route, url) : page(route, url, session);
  }

  async function action(route: string, api: boolean, form: URLSearchParams): Promise<Response> {
    const back = (done: string, n: number) => {
      const params = new URLSearchParams({ done, n: String(n) });
      const user = form.get('return');
      if (user) params.set('user', user);
      return redirect(`${basePath}/sessions?${params}`);
    };
    // API: /api/sessions/<id>/terminate and /api/users/<userId>/terminate; HTML: ids in the form.
    let match = api ? route.match(/^\/api\/sessions\/([^/]+)\/terminate$/) : null;
    const sessionId = match
      ? decodeSegment(match[1]!)
      : !api && route === '/sessions/terminate'
        ? form.get('id')
        : null;
    if (sessionId !== null) {
      if (!/^[0-9a-f]{64}$/.test(sessionId))
        return api
          ? json(400, {
              error: 'bad_request',
              message: 'id must be a session id (64 hex characters)',
            })
          : back('bad-id', 0);
      const terminated = await manager.terminate(sessionId, 'admin');
      return api ? json(200, { id: sessionId, terminated }) : back('session', terminated ? 1 : 0);
    }
    match = api ? route.match(/^\/api\/users\/([^/]+)\/terminate$/) : null;
    const userId = match
      ? decodeSegment(match[1]!)
      : !api && route === '/users/terminate'
        ? form.get('userId')
        : null;
    if (userId !== null) {
      if (userId === '')
        return api
          ? json(400, { error: 'bad_request', message: 'userId is empty' })
          : back('bad-user', 0);
      const ids = await manager.terminateUser(userId, { reason: 'admin' });
      return api ? json(200, { userId, terminated: ids.length, ids }) : back('user', ids.length);
    }
    return api
      ? json(404, { error: 'not_found' })
      : html(
          404,
          messagePage(frame('overview', 'Not found'), 'Not found', 'There is no action here.'),
        );
  }

  async function apiGet(route: string, url: URL): Promise<Response> {
    const limit = positiveInt(url.searchParams.get('limit'), pageSize, MAX_API_LIMIT);
    const offset = Math.max(0, Number.parseInt(url.searchParams.get('offset') ?? '0', 10) || 0);
    if (route === '/api/overview') {
      const { now, stats, health, samples } = await overview();
      return json(200, {
        generatedAt: new Date(now).toISOString(),
        store: stats.store,
        capabilities: store.capabilities,
        health,
        sessions: stats.sessions,
        counters: stats.counters,
        history: {
          sampleInterval: interval,
          samples: samples.map((s) => ({ ...s, at: new Date(s.at).toISOString() })),
        },
      });
    }
    if (route === '/api/sessions') {
      if (!listable())
        return json(501, {
          error: 'not_supported',
          message: `the ${store.name} store cannot list sessions`,
        });
      const user = url.searchParams.get('user') ?? '';
      return json(200, { offset, limit, ...(await listSessions(user, offset, limit)) });
    }
    if (route === '/api/audit') {
      if (!auditable())
        return json(501, {
          error: 'not_supported',
          message: `the ${store.name} store keeps no audit trail`,
        });
      return json(200, { offset, limit, ...(await listAudit(offset, limit)) });
    }
    return json(404, { error: 'not_found' });
  }

  function notice(url: URL): PageFrame['notice'] {
    const n = Number(url.searchParams.get('n') ?? 0);
    switch (url.searchParams.get('done')) {
      case 'session':
        return n > 0
          ? { kind: 'info', text: 'The session was terminated: that device is logged out.' }
          : { kind: 'error', text: 'That session had already ended.' };
      case 'user':
        return { kind: 'info', text: `${n} session(s) of the user were terminated.` };
      case 'bad-id':
        return { kind: 'error', text: 'That is not a session id.' };
      case 'bad-user':
        return { kind: 'error', text: 'No user id was given.' };
      default:
        return undefined;
    }
  }

  async function page(route: string, url: URL, session: SessionRecord): Promise<Response> {
    const page = positiveInt(url.searchParams.get('page'), 1, 1_000_000);
    const offset = (page - 1) * pageSize;
    if (route === '/') {
      const { now, stats, health, samples } = await overview();
      return html(
        200,
        overviewPage(frame('overview', 'Overview'), {
          sessions: stats.sessions,
          counters: stats.counters,
          health,
          capabilities: store.capabilities,
          samples,
          from: now - window,
          to: now,
          sampleInterval: interval,
        }),
      );
    }
    if (route === '/sessions') {
      const userFilter = (url.searchParams.get('user') ?? '').trim();
      const model = {
        listable: listable(),
        userFilter,
        offset,
        pageSize,
        csrfToken: session.csrf,
        currentSessionId: session.id,
      };
      const listed = model.listable
        ? await listSessions(userFilter, offset, pageSize)
        : { total: 0, sessions: [] };
      return html(
        200,
        sessionsPage(frame('sessions', 'Sessions', notice(url)), { ...model, ...listed }),
      );
    }
    if (route === '/audit') {
      const available = auditable();
      const listed = available ? await listAudit(offset, pageSize) : { total: 0, sessions: [] };
      return html(
        200,
        auditPage(frame('audit', 'Audit trail'), { available, offset, pageSize, ...listed }),
      );
    }
    return html(
      404,
      messagePage(frame('overview', 'Not found'), 'Not found', 'There is no page here.'),
    );
  }

  const handler = async (request: Request, context: AdminContext): Promise<Response> => {
    try {
      return await handle(request, context);
    } catch (err) {
      const api = new URL(request.url).pathname.startsWith(`${basePath}/api`);
      if (err instanceof BadRequestError) {
        const message = `bad request: ${err.detail}`;
        return api
          ? json(400, { error: 'bad_request', message })
          : html(400, messagePage(frame('overview', 'Bad request'), 'Bad request', message));
      }
      const unavailable = err instanceof StoreUnavailableError;
      // The message of a Tessera error names the store and what failed, never a credential.
      const message = unavailable
        ? `the session store is unavailable: ${err.message}`
        : err instanceof TesseraError
          ? err.message
          : 'internal error';
      const status = unavailable ? 503 : 500;
      return api
        ? json(status, { error: unavailable ? 'store_unavailable' : 'error', message })
        : html(
            status,
            messagePage(
              frame('overview', 'Error'),
              unavailable ? 'Session store unavailable' : 'Error',
              message,
            ),
          );
    }
  };

  return Object.assign(handler, {
    async sample() {
      await overview();
    },
    history,
    basePath,
  });
}
