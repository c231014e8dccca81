// The admin dashboard mounted in an Express 5 app (run: npx tsx examples/admin-express.ts).
import express from 'express';
import { createSessionManager } from 'tessera-session';
import { createAdminHandler, sendFetchResponse, toFetchRequest } from 'tessera-session/admin';
import { sessionOf, tesseraSession } from 'tessera-session/express';
import { escapeHtml } from 'tessera-session/http';

const ADMINS = new Set(['root']); // your own notion of who may administer sessions
const manager = createSessionManager(); // the store the dashboard lists: pass { store } for Redis, SQL, …
const sessions = tesseraSession(manager, { mode: 'development' });

const app = express();
app.use(sessions);
app.use(express.urlencoded({ extended: false }));

app.get('/login', (req, res) => {
  const csrf = escapeHtml(sessionOf(req).csrfToken);
  res.type('html').send(`<form method="post" action="/login">
<input type="hidden" name="_csrf" value="${csrf}"><input name="user"><button>Log in</button></form>`);
});

app.post('/login', async (req, res) => {
  // Check the password first; this example trusts the user name.
  await sessionOf(req).regenerate({ userId: String(req.body.user) });
  res.redirect(303, '/admin');
});

const admin = createAdminHandler({
  manager,
  basePath: '/admin',
  loginUrl: '/login', // where visitors without a session go (the JSON API answers 401)
  authorize: (session) => ADMINS.has(session.userId ?? ''), // others get a 403
});
app.all(['/admin', '/admin/*rest'], async (req, res, next) => {
  try {
    const response = await admin(toFetchRequest(req), { session: sessionOf(req) });
    await sendFetchResponse(res, response);
  } catch (err) {
    next(err);
  }
});

app.use(sessions.errors);
app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
