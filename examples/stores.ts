import { createSessionManager } from 'tessera-session';
import { createHybridStore } from 'tessera-session/hybrid';
import { createRedisStore } from 'tessera-session/redis';
import { createSqlStore } from 'tessera-session/sql';

// Redis alone: fastest, one round trip per operation.
const redis = createRedisStore({
  url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  prefix: 'example:',
});

// SQL alone (PostgreSQL, MySQL/MariaDB or SQLite): durable, with an audit trail of ended sessions.
const sql = createSqlStore({
  url: process.env.DATABASE_URL ?? 'sqlite::memory:',
  table: 'example_sessions',
});

// Both: Redis in front for reads, the database as the truth. A flushed Redis logs nobody out.
const store = createHybridStore({ cache: redis, database: sql });
const sessions = createSessionManager({ store });

const { token } = await sessions.create({
  userId: 'alice',
  ip: '203.0.113.7',
  userAgent: 'curl/8.5',
});
const { session } = await sessions.validate(token, { ip: '203.0.113.7', userAgent: 'curl/8.5' });
console.log(session?.userId, (await sessions.listUserSessions('alice')).length);
await sessions.terminateUser('alice');
await sessions.close(); // a store you pass in stays yours to close:
await store.close(); // the hybrid store closes both of its stores
