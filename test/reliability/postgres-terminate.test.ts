/**
 * PostgreSQL connections killed (`pg_terminate_backend`) in the middle of a run: through HTTP the
 * answers are 200 or a clear 503 and the pool recovers by itself; at the store level, transactions
 * cut in half (creates under a per-user limit, regenerates) leave no half-written session.
 * The store runs on its own table and is found by its own `application_name`, so parallel tests
 * are not disturbed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, it } from 'vitest';
import type { Logger } from '../../src/core/logger.js';
import type { SessionRecord } from '../../src/core/types.js';
import { createSqlStore } from '../../src/stores/sql/index.js';
import { randomUserId, sampleRecord } from '../../src/testing/index.js';
import { dropTables } from '../stores/sql-shared.js';
import { requireService } from '../support/services.js';
import { login, runLoad, send, startApp, tally, watchUnhandled } from './support.js';

const pgUrl = 'postgres://postgres@127.0.0.1:5432/test';
const ok = await requireService('PostgreSQL', '127.0.0.1', 5432, 'apt-get install -y postgresql');
const table = `pt_${randomBytes(6).toString('hex')}`;
const admin = new pg.Pool({ connectionString: pgUrl, max: 2 });
const exec = async (text: string) => (await admin.query(text)).rows as Record<string, unknown>[];
afterAll(async () => {
  if (ok) await dropTables('postgres', exec, table);
  await admin.end();
});

function storeNamed(appName: string, logger?: Logger) {
  return createSqlStore({
    url: `${pgUrl}?application_name=${appName}`,
    table,
    timeout: 2000,
    poolSize: 4,
    logger,
  });
}

/** Terminates every backend of `appName`; returns how many. */
async function killBackends(appName: string): Promise<number> {
  const rows = await exec(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = '${appName}'`,
  );
  return rows.length;
}

describe.skipIf(!ok)('fault injection: PostgreSQL backends terminated', () => {
  it('under HTTP load: 200 or clear 503, the pool recovers, nothing acknowledged is lost', async () => {
    const appName = `tessera-pt-${randomBytes(4).toString('hex')}`;
    const app = await startApp(storeNamed(appName));
    const unhandled = watchUnhandled();
    try {
      const users = Array.from({ length: 12 }, (_, i) => `user-${i}`);
      const tokens = await Promise.all(users.map((u) => login(app.url, u)));
      let killed = 0;
      // Keeps trying for a moment: on a loaded machine the pool may briefly hold no connection.
      const kill = async () => {
        for (let tries = 0; tries < 20; tries++) {
          const n = await killBackends(appName);
          killed += n;
          if (n > 0) return;
          await new Promise((r) => setTimeout(r, 25));
        }
      };
      const { records, marks } = await runLoad({
        url: app.url,
        tokens,
        workers: 12,
        durationMs: 3000,
        deadlineMs: 8000,
        events: [
          [600, kill],
          [1000, kill],
        ],
      });
      assert.ok(killed > 0, 'there were connections to kill');
      const t = tally(records);
      assert.deepEqual(t.problems, []);
      const lastKill = marks[1]!;
      const failures = records.filter((r) => r.answer.outcome !== 'ok');
      const recoveryMs = Math.round(Math.max(lastKill, ...failures.map((r) => r.at)) - lastKill);
      assert.ok(recoveryMs <= 2000, `failures until ${recoveryMs} ms after the last kill`);
      let sessionsLost = 0;
      let acknowledged = 0;
      let writesLost = 0;
      const dataOf = new Map<string, Record<string, unknown>>();
      for (const [i, token] of tokens.entries()) {
        const who = await send(app.url, 'GET', '/whoami', token);
        if (who.body.userId !== users[i]) sessionsLost++;
        dataOf.set(token, who.body.data as Record<string, unknown>);
      }
      for (const r of records) {
        if (r.kind !== 'write' || r.answer.outcome !== 'ok') continue;
        assert.notEqual(r.answer.body.id, null);
        acknowledged++;
        if (dataOf.get(r.token)?.[r.key!] !== r.value) writesLost++;
      }
      assert.equal(sessionsLost, 0);
      assert.equal(writesLost, 0);
      assert.deepEqual(unhandled.errors, []);
      console.info(
        `[reliability] PostgreSQL backends terminated ×2 (${killed} connections): ${t.requests} requests, ${t.unavailable} × 503, ${t.status500} × 500, recovery ${recoveryMs} ms, sessions lost ${sessionsLost}, acknowledged writes ${acknowledged}, lost ${writesLost}`,
      );
    } finally {
      unhandled.stop();
      await app.close();
    }
  });

  it('transactions cut in half leave no half-written session', async () => {
    const appName = `tessera-pt-${randomBytes(4).toString('hex')}`;
    const warnings: Record<string, unknown>[] = [];
    const noop = () => {};
    const store = storeNamed(appName, {
      debug: noop,
      info: noop,
      error: noop,
      warn: (o) => warnings.push(o),
    });
    try {
      const now = Date.now();
      // Sessions to regenerate, and one user to log in many times under a limit of 5.
      const olds = Array.from({ length: 30 }, () => sampleRecord({ userId: randomUserId() }, now));
      for (const r of olds) await store.create(r, { maxSessionsPerUser: 5, now });
      const news = olds.map((o) => sampleRecord({ userId: o.userId, data: { moved: o.id } }, now));
      const user = randomUserId();
      const logins = Array.from({ length: 30 }, () => sampleRecord({ userId: user }, now));

      const ops = [
        ...olds.map((o, i) =>
          store.regenerate(o.id, news[i]!, { maxSessionsPerUser: 5, now }).then((r) => r.ok),
        ),
        ...logins.map((r) => store.create(r, { maxSessionsPerUser: 5, now }).then(() => true)),
      ];
      const settled = Promise.allSettled(ops);
      let killed = 0;
      for (const delay of [0, 5, 15]) {
        await new Promise((r) => setTimeout(r, delay));
        killed += await killBackends(appName);
      }
      const results = await settled;
      assert.ok(killed > 0);
      const failed = results.filter((r) => r.status === 'rejected').length;

      // A regenerate either happened whole (old ended, new live with its data) or not at all.
      const live = async (r: SessionRecord) => (await store.get(r.id, now)).record;
      let halfWritten = 0;
      for (const [i, old] of olds.entries()) {
        const [o, n] = [await live(old), await live(news[i]!)];
        if ((o === null) === (n === null)) halfWritten++;
        if (n) assert.deepEqual({ ...n, data: { ...n.data } }, news[i]);
        if (o) assert.deepEqual({ ...o, data: { ...o.data } }, old);
      }
      // Creates under the limit: at most 5 live, each complete.
      const listed = await store.listUser(user, now);
      assert.ok(listed.length <= 5, `${listed.length} live sessions over a limit of 5`);
      for (const r of listed) {
        const sent = logins.find((l) => l.id === r.id);
        assert.ok(sent, 'a live session nobody created');
        assert.deepEqual({ ...r, data: { ...r.data } }, sent);
      }
      assert.equal(halfWritten, 0, 'regenerates half applied');
      assert.deepEqual(warnings, [], 'no invalid row was read');
      // And the pool works again.
      const after = sampleRecord({}, Date.now());
      await store.create(after, { maxSessionsPerUser: 5, now: Date.now() });
      assert.ok(await live(after));
      console.info(
        `[reliability] PostgreSQL transactions cut: ${ops.length} operations, ${failed} failed with ${killed} connections killed, half-written 0`,
      );
    } finally {
      await store.close();
    }
  });
});
