// Minimal Express 5 app with Tessera sessions (run: npx tsx examples/express.ts).
import express from 'express';
import { createSessionManager } from 'tessera-session';
import { sessionOf, tesseraSession } from 'tessera-session/express';
import { escapeHtml } from 'tessera-session/http';

const manager = createSessionManager(); // in-memory store; pass { store } for Redis, SQL, …
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
  // Check the password here first; then regenerate: new token, old one dead.
  await sessionOf(req).regenerate({ userId: String(req.body.user) });
  res.redirect(303, '/');
});

app.post('/count', (req, res) => {
  const session = sessionOf(req);
  session.set('count', Number(session.get('count') ?? 0) + 1); // saved as a delta with the response
  res.json({ count: session.get('count') });
});

app.post('/logout', async (req, res) => {
  await sessionOf(req).destroy();
  res.redirect(303, '/');
});

app.use(sessions.errors); // a store outage inside a route becomes a 503
app.listen(Number(process.env.PORT ?? 3000));
