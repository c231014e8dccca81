// Run inside a project that installed the packed `tessera-session` tarball (see packed.test.ts).
// `load` is require() when this file runs as CommonJS and import() when it is wrapped as ESM: every
// public entry is loaded by its public name and each factory is called once, against loopback
// servers only (Redis on 6379 is the machine's; Memcached and the unreachable port are never dialled
// by construction alone).
async function smoke(load) {
  const { mkdtempSync } = await load('node:fs');
  const { tmpdir } = await load('node:os');
  const { join } = await load('node:path');
  const called = [];
  const call = async (name, fn) => {
    await fn();
    called.push(name);
  };

  const root = await load('tessera-session');
  const manager = root.createSessionManager();
  const issued = await manager.create({ userId: 'alice', ip: '127.0.0.1', userAgent: 'smoke' });
  const checked = await manager.validate(issued.token, { ip: '127.0.0.1', userAgent: 'smoke' });
  if (checked.session?.userId !== 'alice') throw new Error('the manager lost the session');
  if (!(new root.ConfigError('x', 'y') instanceof root.TesseraError)) throw new Error('errors');
  called.push('tessera-session');

  const { createMemoryStore } = await load('tessera-session/memory');
  await call('memory', () => createMemoryStore().close());

  const { createRedisStore } = await load('tessera-session/redis');
  await call('redis', async () => {
    const store = createRedisStore({
      url: 'redis://127.0.0.1:6379',
      prefix: `smoke:${process.pid}:`,
    });
    const health = await store.health();
    if (!health.ok) throw new Error(`redis health: ${JSON.stringify(health)}`);
    await store.close();
  });

  const { createMemcachedStore } = await load('tessera-session/memcached');
  await call('memcached', () => createMemcachedStore({ servers: ['127.0.0.1:11211'] }).close());

  const { createSqlStore } = await load('tessera-session/sql');
  const sql = createSqlStore({ url: 'sqlite::memory:' });
  await call('sql', async () => {
    const stats = await sql.stats(Date.now());
    if (stats.activeSessions !== 0) throw new Error('sql stats');
  });

  const { createFileStore } = await load('tessera-session/file');
  await call('file', () =>
    createFileStore({ path: mkdtempSync(join(tmpdir(), 'smoke-file-')) }).close(),
  );

  const { createCookieStore } = await load('tessera-session/cookie');
  await call('cookie', () => {
    const cookies = createCookieStore({ secrets: ['s'.repeat(32)] });
    if (typeof cookies.seal !== 'function') throw new Error('cookie');
  });

  const { createHybridStore } = await load('tessera-session/hybrid');
  await call('hybrid', () =>
    createHybridStore({ cache: createMemoryStore(), database: sql }).close(),
  );

  const { createFallbackStore } = await load('tessera-session/fallback');
  await call('fallback', () =>
    createFallbackStore({ primary: createMemoryStore(), secondary: createMemoryStore() }).close(),
  );

  const { createStoreFromConfig } = await load('tessera-session/config');
  await call('config', async () => (await createStoreFromConfig({ storage: 'memory' })).close());

  const http = await load('tessera-session/http');
  await call('http', () => {
    http.createSessionHttp(manager);
  });

  for (const name of ['express', 'hono']) {
    const adapter = await load(`tessera-session/${name}`);
    await call(name, () => {
      if (typeof adapter.tesseraSession(manager) !== 'function') throw new Error(name);
    });
  }
  const fastify = await load('tessera-session/fastify');
  await call('fastify', () => {
    // A Fastify plugin: registered with `fastify.register(tesseraSession, { manager })`.
    if (typeof fastify.tesseraSession !== 'function') throw new Error('fastify');
  });

  const { TesseraStore } = await load('tessera-session/express-session');
  await call('express-session', async () => {
    // An express-session app as CommonJS apps are written (when this file runs as CJS): the
    // middleware on a plain http server, its sessions in a Tessera store.
    const session = await load('express-session');
    const { createServer } = await load('node:http');
    const backing = createMemoryStore();
    const middleware = (session.default ?? session)({
      store: new TesseraStore({ store: backing }),
      secret: 'smoke secret',
      resave: false,
      saveUninitialized: false,
    });
    const server = createServer((req, res) =>
      middleware(req, res, () => {
        req.session.views = (req.session.views ?? 0) + 1;
        res.end(String(req.session.views));
      }),
    );
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${server.address().port}/`;
      const first = await fetch(url);
      const cookie = first.headers.get('set-cookie').split(';')[0];
      const second = await fetch(url, { headers: { cookie } });
      const views = [await first.text(), await second.text()];
      if (views.join() !== '1,2') throw new Error(`express-session views ${views.join()}`);
      if ((await backing.list({ limit: 10 }, Date.now())).total !== 1)
        throw new Error('express-session: the session is not in the Tessera store');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  const { createAdminHandler } = await load('tessera-session/admin');
  await call('admin', () => {
    createAdminHandler({ manager, authorize: () => true });
  });

  const { testSessionStore } = await load('tessera-session/testing');
  await call('testing', () => {
    if (typeof testSessionStore !== 'function') throw new Error('testing');
  });

  await manager.close();
  console.log(JSON.stringify(called));
}

module.exports = { smoke };
