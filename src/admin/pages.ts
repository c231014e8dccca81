/**
 * The dashboard's HTML side: the overview, sessions and audit pages, the confirmation pages in
 * front of every termination (plain GET forms, so they work without script), and the form posts
 * that act once confirmed (the caller has already checked the CSRF token).
 */
import type { SessionManager } from '../core/manager-api.js';
import type { SessionRecord } from '../core/types.js';
import { confirmSessionPage, confirmUserPage } from './confirm-views.js';
import type { AdminData } from './data.js';
import { sessionView } from './json.js';
import { html, positiveInt, redirect, SESSION_ID } from './responses.js';
import { auditPage, messagePage, overviewPage, type PageFrame, sessionsPage } from './views.js';

/** Builds the frame of a page for the session viewing it (`null` before it is known). */
export type FrameOf = (
  tab: PageFrame['tab'],
  title: string,
  session: SessionRecord | null,
  notice?: PageFrame['notice'],
) => PageFrame;

export interface AdminPages {
  get(route: string, url: URL, session: SessionRecord): Promise<Response>;
  post(route: string, form: URLSearchParams, session: SessionRecord): Promise<Response>;
}

export function createAdminPages(
  // biome-ignore lint/suspicious/noExplicitAny: any manager's data type is fine here
  manager: SessionManager<any>,
  data: AdminData,
  settings: { basePath: string; pageSize: number; window: number; sampleInterval: number },
  frame: FrameOf,
): AdminPages {
  const { basePath, pageSize } = settings;
  const sessionsUrl = (user: string | null | undefined, extra: Record<string, string> = {}) => {
    const params = new URLSearchParams(extra);
    if (user) params.set('user', user);
    const query = params.toString();
    return `${basePath}/sessions${query ? `?${query}` : ''}`;
  };
  const notFound = (session: SessionRecord) =>
    html(
      404,
      messagePage(frame('overview', 'Not found', session), 'Not found', 'There is no page here.'),
    );

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

  async function confirmSession(url: URL, session: SessionRecord): Promise<Response> {
    const id = url.searchParams.get('id') ?? '';
    const back = sessionsUrl(url.searchParams.get('return'));
    const title = 'Terminate a session';
    if (!SESSION_ID.test(id))
      return html(
        400,
        messagePage(frame('sessions', title, session), title, 'That is not a session id.', back),
      );
    const target = await data.findSession(id);
    if (!target)
      return html(
        404,
        messagePage(
          frame('sessions', title, session),
          'That session has already ended',
          'It expired or was terminated meanwhile: there is nothing left to end.',
          back,
        ),
      );
    return html(
      200,
      confirmSessionPage(frame('sessions', title, session), {
        session: sessionView(target),
        own: target.id === session.id,
        csrfToken: session.csrf,
        returnTo: url.searchParams.get('return') ?? '',
        back,
      }),
    );
  }

  async function confirmUser(url: URL, session: SessionRecord): Promise<Response> {
    const userId = url.searchParams.get('userId') ?? '';
    const back = sessionsUrl(url.searchParams.get('return'));
    const title = 'Terminate all sessions of a user';
    if (userId === '' || !data.listable())
      return html(
        400,
        messagePage(frame('sessions', title, session), title, 'No user id was given.', back),
      );
    const listed = await data.listSessions(userId, 0, pageSize);
    return html(
      200,
      confirmUserPage(frame('sessions', title, session), {
        userId,
        ...listed,
        own: userId === session.userId,
        csrfToken: session.csrf,
        returnTo: url.searchParams.get('return') ?? '',
        back,
      }),
    );
  }

  return {
    async get(route, url, session) {
      const page = positiveInt(url.searchParams.get('page'), 1, 1_000_000);
      const offset = (page - 1) * pageSize;
      if (route === '/') {
        const { now, stats, health, samples } = await data.overview();
        return html(
          200,
          overviewPage(frame('overview', 'Overview', session), {
            sessions: stats.sessions,
            counters: stats.counters,
            health,
            capabilities: manager.store.capabilities,
            samples,
            from: now - settings.window,
            to: now,
            sampleInterval: settings.sampleInterval,
          }),
        );
      }
      if (route === '/sessions') {
        const userFilter = (url.searchParams.get('user') ?? '').trim();
        const listable = data.listable();
        const listed = listable
          ? await data.listSessions(userFilter, offset, pageSize)
          : { total: 0, sessions: [] };
        return html(
          200,
          sessionsPage(frame('sessions', 'Sessions', session, notice(url)), {
            listable,
            userFilter,
            offset,
            pageSize,
            currentSessionId: session.id,
            ...listed,
          }),
        );
      }
      if (route === '/sessions/terminate') return confirmSession(url, session);
      if (route === '/users/terminate') return confirmUser(url, session);
      if (route === '/audit') {
        const available = data.auditable();
        const listed = available
          ? await data.listAudit(offset, pageSize)
          : { total: 0, sessions: [] };
        return html(
          200,
          auditPage(frame('audit', 'Audit trail', session), {
            available,
            offset,
            pageSize,
            ...listed,
          }),
        );
      }
      return notFound(session);
    },

    async post(route, form, session) {
      const back = (done: string, n: number) =>
        redirect(sessionsUrl(form.get('return'), { done, n: String(n) }));
      if (route === '/sessions/terminate') {
        const id = form.get('id') ?? '';
        if (!SESSION_ID.test(id)) return back('bad-id', 0);
        return back('session', (await manager.terminate(id, 'admin')) ? 1 : 0);
      }
      if (route === '/users/terminate') {
        const userId = form.get('userId') ?? '';
        if (userId === '') return back('bad-user', 0);
        return back('user', (await manager.terminateUser(userId, { reason: 'admin' })).length);
      }
      return html(
        404,
        messagePage(
          frame('overview', 'Not found', session),
          'Not found',
          'There is no action here.',
        ),
      );
    },
  };
}
