// Minimal Fastify 5 app with Tessera sessions (run: npx tsx examples/fastify.ts).
import Fastify from 'fastify';
import { createSessionManager } from 'tessera-session';
import { tesseraSession } from 'tessera-session/fastify';
import { escapeHtml } from 'tessera-session/http';

const manager = createSessionManager(); // in-memory store; pass { store } for Redis, SQL, …
const app = Fastify();
await app.register(tesseraSession, {
  manager,
  mode: process.env.NODE_ENV === 'production' ? 'production' : 'development',
});

app.get('/', async (req, reply) => {
  const { session } = req;
  return reply
    .type('text/html')
    .send(`<p>Hello ${escapeHtml(session.userId ?? 'stranger')}, count: ${session.get('count') ?? 0}</p>
<form method="post" action="/login"><input type="hidden" name="_csrf" value="${session.csrfToken}">
<input name="user"><button>Log in</button></form>`);
});

app.post('/login', async (req, reply) => {
  // Check the password here first; then regenerate: new token, old one dead.
  await req.session.regenerate({ userId: String((req.body as { user: string }).user) });
  return reply.redirect('/', 303);
});

app.post('/count', async (req) => {
  req.session.set('count', Number(req.session.get('count') ?? 0) + 1); // saved as a delta
  return { count: req.session.get('count') };
});

app.post('/logout', async (req, reply) => {
  await req.session.destroy();
  return reply.redirect('/', 303);
});

await app.listen({ port: Number(process.env.PORT ?? 3000) });
