// Minimal Hono 4 app with Tessera sessions on Node (run: npx tsx examples/hono.ts).
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createSessionManager } from 'tessera-session';
import { tesseraSession } from 'tessera-session/hono';
import { escapeHtml } from 'tessera-session/http';

const manager = createSessionManager(); // in-memory store; pass { store } for Redis, SQL, …
const app = new Hono();
app.use(
  tesseraSession(manager, {
    mode: process.env.NODE_ENV === 'production' ? 'production' : 'development',
  }),
);

app.get('/', (c) => {
  const session = c.get('session');
  return c.html(`<p>Hello ${escapeHtml(session.userId ?? 'stranger')}, count: ${session.get('count') ?? 0}</p>
<form method="post" action="/login"><input type="hidden" name="_csrf" value="${session.csrfToken}">
<input name="user"><button>Log in</button></form>`);
});

app.post('/login', async (c) => {
  const { user } = await c.req.parseBody();
  // Check the password here first; then regenerate: new token, old one dead.
  await c.get('session').regenerate({ userId: String(user) });
  return c.redirect('/', 303);
});

app.post('/count', (c) => {
  const session = c.get('session');
  session.set('count', Number(session.get('count') ?? 0) + 1); // saved as a delta
  return c.json({ count: session.get('count') });
});

app.post('/logout', async (c) => {
  await c.get('session').destroy();
  return c.redirect('/', 303);
});

serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000) });
