/**
 * `tessera-session/admin`: the admin dashboard as one Fetch-style handler, `(request, { session }) =>
 * Response`, mounted through any adapter. It serves server-rendered pages (overview, sessions,
 * audit trail, a confirmation page before every termination) and the JSON API behind them under
 * `<basePath>/api/…`. This module owns the options, the checks every request passes (a live
 * session that `authorize` accepts; that session's CSRF token on every POST) and the answer to a
 * failure; `pages.ts` and `api.ts` own the routes.
 */
import {
  BadRequestError,
  ConfigError,
  InvalidInputError,
  StoreUnavailableError,
  TesseraError,
} from '../core/errors.js';
import type { Session, SessionManager } from '../core/manager-api.js';
import { type KnownKeys, rejectUnknownKeys } from '../core/strict-options.js';
import type { SessionData, SessionRecord } from '../core/types.js';
import { createAdminApi } from './api.js';
import { createAdminData } from './data.js';
import { ActivityHistory } from './history.js';
import { createAdminPages, type FrameOf } from './pages.js';
import { readPost } from './requests.js';
import { html, json, redirect } from './responses.js';
import { messagePage } from './views.js';

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
  /**
   * A link back to the host app in the dashboard's header, e.g. `{ href: '/', label: 'Back to
   * the app' }`. @default none
   */
  appLink?: { href: string; label: string };
  /**
   * The host app's logout endpoint. The header then shows "Log out", a form that POSTs there with
   * the session's CSRF token in `csrfField`. @default none (no logout button)
   */
  logoutUrl?: string;
  /** The time source. @default Date.now */
  clock?: () => number;
}

/** The dashboard's option keys, and those of `appLink: { … }`. */
export const ADMIN_KNOWN_KEYS = {
  manager: true,
  authorize: true,
  basePath: true,
  loginUrl: true,
  pageSize: true,
  historyWindow: true,
  sampleInterval: true,
  csrfField: true,
  csrfHeader: true,
  appLink: true,
  logoutUrl: true,
  clock: true,
} as const satisfies KnownKeys<AdminHandlerOptions>;
const APP_LINK_KNOWN_KEYS = { href: true, label: true } as const satisfies KnownKeys<
  NonNullable<AdminHandlerOptions['appLink']>
>;

export type AdminHandler = ((request: Request, context: AdminContext) => Promise<Response>) & {
  /** Samples the active-session count now (call it from a timer to fill the chart while idle). */
  sample(): Promise<void>;
  readonly history: ActivityHistory;
  readonly basePath: string;
};

function recordOf(context: AdminContext | undefined): SessionRecord | null {
  const session = context?.session;
  if (!session) return null;
  if ('record' in session) return (session.record as SessionRecord | null) ?? null;
  return session;
}

/** Builds the dashboard handler. */
export function createAdminHandler<Data extends SessionData = SessionData>(
  options: AdminHandlerOptions<Data>,
): AdminHandler {
  rejectUnknownKeys('createAdminHandler()', options, ADMIN_KNOWN_KEYS);
  rejectUnknownKeys('createAdminHandler()', options?.appLink, APP_LINK_KNOWN_KEYS, 'appLink');
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
  const data = createAdminData(manager, history, window, clock);
  const api = createAdminApi(manager, data, { pageSize, sampleInterval: interval });

  const frame: FrameOf = (tab, title, session, notice) => ({
    title,
    basePath,
    tab,
    storeName: store.name,
    notice,
    appLink: options.appLink,
    account: session
      ? {
          userId: session.userId,
          logout: options.logoutUrl
            ? { action: options.logoutUrl, csrfField, csrfToken: session.csrf }
            : undefined,
        }
      : undefined,
  });
  const pages = createAdminPages(
    manager,
    data,
    { basePath, pageSize, window, sampleInterval: interval },
    frame,
  );

  async function handle(request: Request, context: AdminContext): Promise<Response> {
    const url = new URL(request.url);
    const path = url.pathname;
    if (path !== basePath && !path.startsWith(`${basePath}/`))
      return json(404, { error: 'not_found' });
    const route = path.slice(basePath.length).replace(/\/+$/, '') || '/';
    const isApi = route === '/api' || route.startsWith('/api/');
    const method = request.method.toUpperCase();

    const session = recordOf(context);
    if (!session) {
      if (isApi) return json(401, { error: 'unauthenticated', message: 'log in first' });
      if (options.loginUrl) return redirect(options.loginUrl);
      return html(
        401,
        messagePage(
          frame('overview', 'Log in', null),
          'Log in first',
          'The admin dashboard needs a logged-in admin session.',
        ),
      );
    }
    if (!(await options.authorize(session as Session<Data>))) {
      if (isApi)
        return json(403, { error: 'forbidden', message: 'this session may not use the admin API' });
      return html(
        403,
        messagePage(
          frame('overview', 'Forbidden', null),
          'Forbidden',
          'This account may not open the admin dashboard.',
        ),
      );
    }

    if (method === 'POST') {
      const { form, csrf } = await readPost(request, { header: csrfHeader, field: csrfField });
      if (!manager.verifyCsrf(session as Session<Data>, csrf)) {
        const message = 'the CSRF token is missing or wrong: reload the page and try again';
        return isApi
          ? json(403, { error: 'csrf', message })
          : html(
              403,
              messagePage(frame('sessions', 'Forbidden', session), 'Request refused', message),
            );
      }
      return isApi ? api.post(route) : pages.post(route, form, session);
    }
    if (method !== 'GET' && method !== 'HEAD')
      return new Response(null, { status: 405, headers: { allow: 'GET, HEAD, POST' } });
    return isApi ? api.get(route, url) : pages.get(route, url, session);
  }

  const handler = async (request: Request, context: AdminContext): Promise<Response> => {
    try {
      return await handle(request, context);
    } catch (err) {
      const api = new URL(request.url).pathname.startsWith(`${basePath}/api`);
      if (err instanceof BadRequestError || err instanceof InvalidInputError) {
        const message = err instanceof BadRequestError ? `bad request: ${err.detail}` : err.message;
        return api
          ? json(400, { error: 'bad_request', message })
          : html(400, messagePage(frame('overview', 'Bad request', null), 'Bad request', message));
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
              frame('overview', 'Error', null),
              unavailable ? 'Session store unavailable' : 'Error',
              message,
            ),
          );
    }
  };

  return Object.assign(handler, {
    async sample() {
      await data.overview();
    },
    history,
    basePath,
  });
}
