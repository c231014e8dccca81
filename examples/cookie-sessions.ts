// Express with client-side sessions: the whole session sealed (AES-256-GCM) in the browser's
// cookies, nothing stored on the server (run: npx tsx examples/cookie-sessions.ts).
import { randomBytes } from 'node:crypto';
import express from 'express';
import { createMemoryRateLimitStore, createSessionManager } from 'tessera-session';
import { createCookieStore, generationsFromRateLimitStore } from 'tessera-session/cookie';
import { sessionOf, tesseraSession } from 'tessera-session/express';
import { escapeHtml } from 'tessera-session/http';

const cookies = createCookieStore({
  // Every server of the app gets the same secrets; the first seals, all open (rotate by prepending).
  secrets: process.env.SESSION_COOKIE_SECRETS?.split(',') ?? [randomBytes(32).toString('base64')],
  // "Log out everywhere" needs a per-user counter on the server: memory for ONE process only (a
  // second process would see every cookie as revoked); createRedisRateLimitStore()
  // (tessera-session/redis) shared by several.
  generations: generationsFromRateLimitStore(createMemoryRateLimitStore()),
});
const manager = createSessionManager({ store: cookies.sessionStore() });
const sessions = tesseraSession(manager, {
  mode: process.env.NODE_ENV === 'production' ? 'production' : 'development',
});

const app = express();
app.use(sessions);
app.use(express.urlencoded({ extended: false }));

app.get('/', (req, res) => {
  const session = sessionOf(req);
  res
    .type('html')
    .send(`<p>Hello ${escapeHtml(session.userId ?? 'stranger')}, count: ${session.get('count') ?? 0}</p>
<form method="post" action="/login"><input type="hidden" name="_csrf" value="${session.csrfToken}">
<input name="user"><button>Log in</button></form>`);
});

app.post('/login', async (req, res) => {
  // Check the password here first; then regenerate: a new session id and CSRF token.
  await sessionOf(req).regenerate({ userId: String(req.body.user) });
  res.redirect(303, '/');
});

app.post('/count', (req, res) => {
  const session = sessionOf(req);
  session.set('count', Number(session.get('count') ?? 0) + 1); // resealed into the cookies
  res.json({ count: session.get('count') });
});

app.post('/logout-everywhere', async (req, res) => {
  await sessionOf(req).destroyAll(); // every cookie of this user, in every browser, is dead
  res.redirect(303, '/');
});

app.post('/logout', async (req, res) => {
  await sessionOf(req).destroy(); // clears every chunk cookie
  res.redirect(303, '/');
});

app.use(sessions.errors);
app.listen(Number(process.env.PORT ?? 3000));
