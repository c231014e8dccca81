/**
 * Child-process entry for the cross-process termination tests: a tiny Hono app on tessera with the
 * Redis store (port — or `cluster:<port>,<port>,…` for a node-redis Cluster client on those
 * nodes —, prefix and "cache"/"no-cache" from argv), listening on a free loopback port
 * it reports over IPC. Routes: GET /hello (starts an anonymous session), POST /login {user}, GET /me (200 with the user, 401 without a
 * session), POST /logout, GET /cache (the local cache's counters). Started by
 * `startRedisSessionApp` (./redis-session-process.ts).
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { createCluster } from 'redis';
import { tesseraSession } from '../../src/adapters/hono.js';
import { createSessionManager } from '../../src/index.js';
import { createRedisStore } from '../../src/stores/redis/index.js';

const [port, prefix, cache] = process.argv.slice(2);
if (!port || !prefix || !cache)
  throw new Error('usage: redis-session-app <port|cluster:p1,p2,…> <prefix> <cache|no-cache>');

async function clusterClient(ports: string) {
  const client = createCluster({
    rootNodes: ports.split(',').map((p) => ({ url: `redis://127.0.0.1:${p}` })),
  });
  client.on('error', () => {});
  await client.connect();
  return client;
}

const cluster = port.startsWith('cluster:') ? await clusterClient(port.slice(8)) : null;
const store = createRedisStore({
  ...(cluster ? { client: cluster } : { port: Number(port) }),
  prefix,
  connectTimeout: 2000,
  localCache: cache === 'cache',
});
const manager = createSessionManager({ store, cleanupInterval: false });
const app = new Hono();
app.use(tesseraSession(manager, { mode: 'development' }));
app.get('/hello', (c) => {
  c.get('session').set('visited', true); // an anonymous session: cookies and a CSRF token
  return c.json({ ok: true });
});
app.post('/login', async (c) => {
  const { user } = await c.req.json<{ user: string }>();
  await c.get('session').regenerate({ userId: user });
  return c.json({ ok: true });
});
app.get('/me', (c) => {
  const { userId } = c.get('session');
  return userId ? c.json({ userId }) : c.json({ error: 'no session' }, 401);
});
app.post('/logout', async (c) => {
  await c.get('session').destroy();
  return c.json({ ok: true });
});
app.get('/cache', (c) => c.json(store.localCacheStats()));

const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
  process.send?.({ port: info.port }),
);
process.on('disconnect', () => {
  server.close();
  void Promise.all([manager.close(), store.close()])
    .then(() => cluster?.close())
    .finally(() => process.exit(0));
});
