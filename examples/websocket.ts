// WebSocket connections that know their user: Express + ws (run: npx tsx examples/websocket.ts).
import { createServer } from 'node:http';
import express from 'express';
import { createSessionManager } from 'tessera-session';
import { sessionOf, tesseraSession } from 'tessera-session/express';
import { refuseUpgrade, upgradeSession } from 'tessera-session/http';
import { WebSocketServer } from 'ws';

const manager = createSessionManager();
const sessions = tesseraSession(manager, {
  mode: process.env.NODE_ENV === 'production' ? 'production' : 'development',
  // Pages on other origins that may open sockets with the session (this host always may):
  // trustedOrigins: ['https://app.example.com'],
});

const app = express();
app.use(sessions);
app.get('/', (req, res) => {
  res.json({ user: sessionOf(req).userId, csrf: sessionOf(req).csrfToken });
});
app.post('/login', async (req, res) => {
  // Check the password here first; then regenerate: new token, old one dead.
  await sessionOf(req).regenerate({ userId: String(req.query.user) });
  res.json({ ok: true });
});
app.use(sessions.errors);

const server = createServer(app);
const sockets = new WebSocketServer({ noServer: true });

server.on('upgrade', async (req, socket, head) => {
  // A page of another origin gets 403 (the browser would send the cookie), a store outage 503.
  const result = await upgradeSession(sessions.http, req);
  if (!result.ok) return refuseUpgrade(socket, result.answer);
  // Read-only: a socket has no response to carry a cookie. No user, no socket.
  const { userId } = result.session;
  if (!userId) return refuseUpgrade(socket, 401);
  sockets.handleUpgrade(req, socket, head, (ws) => {
    ws.send(JSON.stringify({ hello: userId }));
    ws.on('message', (message) => ws.send(`${userId}: ${message}`));
  });
});

server.listen(Number(process.env.PORT ?? 3000));
