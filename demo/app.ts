/**
 * The demo application on the Express adapter: login (rate-limited), a home page with a
 * CSRF-protected form writing to the session, flash messages, "your devices" with revoke and
 * "log out everywhere else", logout, and the admin dashboard at /admin for the admin user. A
 * visitor whose session ended is told why on the login page (`session.miss`), and the session
 * middleware's own refusals (a stale CSRF token, a store outage) use the demo's layout.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { sessionOf, tesseraSession } from '../src/adapters/express.js';
import {
  type AdminHandlerOptions,
  createAdminHandler,
  sendFetchResponse,
  toFetchRequest,
} from '../src/admin/index.js';
import type { SessionManager } from '../src/core/manager-api.js';
import { retryAfterSeconds } from '../src/http/responses.js';
import { signedOutCode, signedOutMessage } from './signed-out.js';
import { checkPassword, type DemoUser, userById } from './users.js';
import {
  devicesPage,
  homePage,
  type Layout,
  loginPage,
  messagePage,
  refusalPage,
} from './views.js';

/** What the demo keeps in a session. */
export type DemoData = { notes?: string[] };

export interface DemoAppOptions {
  manager: SessionManager<DemoData>;
  /** `development` relaxes Secure cookies for http://localhost. */
  mode: 'production' | 'development';
  trustProxy?: boolean;
  /** The admin dashboard's activity chart: span and sampling. @default 6 hours, one sample a minute */
  adminChart?: Pick<AdminHandlerOptions, 'historyWindow' | 'sampleInterval'>;
}

export function createDemoApp({
  manager,
  mode,
  trustProxy = false,
  adminChart = {},
}: DemoAppOptions) {
  const app = express();
  app.disable('x-powered-by');
  app.use((_req, res, next) => {
    res.set({
      'content-security-policy':
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
      'referrer-policy': 'same-origin',
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    });
    next();
  });

  // Before the session middleware: a probe that keeps answering while the session store is down.
  app.get('/healthz', async (_req, res) => {
    const health = await manager.health();
    res.status(health.ok ? 200 : 503).json(health);
  });

  const sessions = tesseraSession(manager, {
    mode,
    trustProxy,
    refusalPage,
    // The dashboard checks the CSRF token of every POST itself and answers a bad one with its own
    // "Request refused" page (and JSON for its API), so the middleware leaves /admin to it.
    skipCsrf: ({ path }) => isAdminPath(path),
  });
  app.use(sessions);
  app.use(express.urlencoded({ extended: false, limit: '20kb' }));

  const layout = (req: Request, title: string): Layout => {
    const session = sessionOf<DemoData>(req);
    return {
      title,
      user: userById(session.userId),
      csrfToken: session.csrfToken,
      flashes: session.flashes(),
    };
  };
  const field = (req: Request, name: string): string => {
    const value = (req.body as Record<string, unknown> | undefined)?.[name];
    return typeof value === 'string' ? value : '';
  };
  /** Why the cookie this request presented stopped working, as a sentence (or `null`). */
  const signedOut = (req: Request): string | null => {
    const code = signedOutCode(sessionOf(req).miss);
    return code ? signedOutMessage(code, manager.settings) : null;
  };
  /** To the login page, with the reason as a flash: the redirect clears the dead cookie. */
  const toLogin = (req: Request, res: Response) => {
    const why = signedOut(req);
    if (why) sessionOf(req).flash('warn', why);
    res.redirect(303, '/login');
  };
  const requireUser = (req: Request, res: Response, next: NextFunction) => {
    if (userById(sessionOf(req).userId)) return next();
    toLogin(req, res);
  };

  app.get('/', requireUser, (req, res) => {
    const notes = sessionOf<DemoData>(req).get('notes') ?? [];
    res.type('html').send(homePage(layout(req, 'Home'), notes));
  });

  app.get('/login', (req, res) => {
    if (sessionOf(req).userId) return res.redirect(303, '/');
    res.type('html').send(loginPage(layout(req, 'Log in'), { signedOut: signedOut(req) }));
  });

  app.post('/login', async (req, res) => {
    const session = sessionOf<DemoData>(req);
    const username = field(req, 'username').slice(0, 100);
    const password = field(req, 'password').slice(0, 200);
    let user: DemoUser | null = null;
    // Nothing an anonymous visitor left in the session is worth keeping here (a login never
    // keeps another user's data anyway: bob's notes stay with bob when alice logs in after him).
    const result = await session.login(
      username,
      () => {
        user = checkPassword(username, password);
        return user?.id ?? null;
      },
      { keepData: false },
    );
    if (result.ok) {
      session.flash('info', `Welcome back, ${userById(result.userId)?.name}.`);
      return res.redirect(303, '/');
    }
    if (result.reason === 'rate_limited') {
      const seconds = retryAfterSeconds(result.retryAfterMs);
      res.status(429).set('retry-after', String(seconds));
      return res.type('html').send(
        loginPage(layout(req, 'Log in'), {
          username,
          error: `Too many failed login attempts. Try again in ${Math.ceil(seconds / 60)} minute(s).`,
        }),
      );
    }
    res
      .status(401)
      .type('html')
      .send(
        loginPage(layout(req, 'Log in'), {
          username,
          error: `Wrong username or password (${result.remaining} attempt(s) left before a pause).`,
        }),
      );
  });

  app.post('/notes', requireUser, (req, res) => {
    const session = sessionOf<DemoData>(req);
    const note = field(req, 'note').trim().slice(0, 200);
    if (note) {
      session.set('notes', [...(session.get('notes') ?? []), note].slice(-20));
      session.flash('info', 'Note saved in your session.');
    }
    res.redirect(303, '/');
  });

  app.post('/notes/clear', requireUser, (req, res) => {
    sessionOf<DemoData>(req).delete('notes').flash('info', 'Notes cleared.');
    res.redirect(303, '/');
  });

  app.get('/devices', requireUser, async (req, res) => {
    const session = sessionOf(req);
    const list = await manager.listUserSessions(session.userId!);
    res.type('html').send(devicesPage(layout(req, 'Your devices'), list, session.id));
  });

  app.post('/devices/revoke', requireUser, async (req, res) => {
    const session = sessionOf(req);
    const id = field(req, 'id');
    // Only one of this user's own sessions may be revoked here.
    const mine = (await manager.listUserSessions(session.userId!)).some((s) => s.id === id);
    if (!mine) {
      session.flash('error', 'That session is not one of yours, or it has already ended.');
      return res.redirect(303, '/devices');
    }
    if (id === session.id) {
      await session.destroy();
      session.flash('info', 'You have been logged out.');
      return res.redirect(303, '/login');
    }
    await manager.terminate(id, 'logout');
    session.flash('info', 'The session was revoked: that device is logged out.');
    res.redirect(303, '/devices');
  });

  app.post('/devices/revoke-others', requireUser, async (req, res) => {
    const session = sessionOf(req);
    const ended = await session.destroyAll({ exceptCurrent: true });
    session.flash('info', `Logged out everywhere else (${ended.length} session(s) ended).`);
    res.redirect(303, '/devices');
  });

  app.post('/logout', async (req, res) => {
    const session = sessionOf(req);
    await session.destroy();
    session.flash('info', 'You have been logged out.');
    res.redirect(303, '/login');
  });

  // ── Admin dashboard ──────────────────────────────────────────────────────────────────────────
  // `tessera-session/admin` is a Fetch-style handler; for its pages `requireAdmin` answers first with
  // the demo's own login redirect and 403 page. The JSON API is left to the handler, which answers
  // 401/403 as JSON; it checks `authorize` and the CSRF token itself in every case.
  const requireAdmin = (req: Request, res: Response, next: NextFunction) => {
    const user = userById(sessionOf(req).userId);
    if (user?.admin || isAdminApi(req.path)) return next();
    if (!user) return toLogin(req, res);
    res
      .status(403)
      .type('html')
      .send(
        messagePage(
          layout(req, 'Forbidden'),
          'Forbidden',
          'Only the admin user can open the admin dashboard.',
        ),
      );
  };
  const admin = createAdminHandler({
    manager,
    basePath: '/admin',
    loginUrl: '/login',
    appLink: { href: '/', label: 'Back to the demo' },
    logoutUrl: '/logout',
    authorize: (session) => userById(session.userId)?.admin === true,
    ...adminChart,
  });
  app.all(['/admin', '/admin/*rest'], requireAdmin, async (req, res, next) => {
    try {
      await sendFetchResponse(res, await admin(toFetchRequest(req), { session: sessionOf(req) }));
    } catch (err) {
      next(err);
    }
  });

  app.use((req: Request, res: Response) => {
    res
      .status(404)
      .type('html')
      .send(messagePage(layout(req, 'Not found'), 'Not found', 'There is no page here.'));
  });
  app.use(sessions.errors);
  return app;
}

function isAdminPath(path: string): boolean {
  return path === '/admin' || path.startsWith('/admin/');
}

function isAdminApi(path: string): boolean {
  return path === '/admin/api' || path.startsWith('/admin/api/');
}
