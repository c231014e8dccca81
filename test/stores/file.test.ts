import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, it } from 'vitest';
import { StoreError, StoreUnavailableError } from '../../src/core/errors.js';
import { createFileStore } from '../../src/stores/file.js';
import { randomUserId, sampleRecord, testSessionStore } from '../../src/testing/index.js';
import { startFileStoreProcess } from '../support/file-store-process.js';
import { testDestroyReturnsOwner } from './destroy-owner.js';

const root = mkdtempSync(join(tmpdir(), 'tessera-file-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function folder(): string {
  return mkdtempSync(join(root, 'store-'));
}

describe('file store: contract, second instance in another process', () => {
  const shared = folder();
  testSessionStore(it, () => createFileStore({ path: shared }), {
    second: () => startFileStoreProcess(shared),
    unreachable: () => createFileStore({ path: join(shared, 'no-such-folder') }),
  });
  testDestroyReturnsOwner(it, () => createFileStore({ path: shared }));
});

describe('file store: its own guarantees', () => {
  it('a missing folder is a StoreUnavailableError naming the path', async () => {
    const path = join(root, 'missing', 'deeper');
    const store = createFileStore({ path });
    await assert.rejects(
      store.create(sampleRecord(), { maxSessionsPerUser: 5, now: Date.now() }),
      (err: unknown) => {
        assert.ok(err instanceof StoreUnavailableError);
        assert.equal(err.address, path);
        assert.match(err.message, /does not exist/);
        return true;
      },
    );
    assert.equal((await store.health()).ok, false);
  });

  it('a path under a regular file is refused the same way', async () => {
    const file = join(root, 'plain-file');
    writeFileSync(file, 'x');
    const store = createFileStore({ path: join(file, 'sessions') });
    await assert.rejects(store.get(sampleRecord().id, Date.now()), StoreUnavailableError);
  });

  it('a read-only folder is a StoreUnavailableError naming the path (checked as an unprivileged user)', async () => {
    // Root ignores permission bits, so the store runs in a child process as "nobody". That user may
    // not be able to enter the checkout (a clone in a private folder), so the child is one bundled
    // file in a world-readable temporary folder and loads nothing from the checkout.
    const path = folder();
    chmodSync(root, 0o755);
    chmodSync(path, 0o555);
    const childDir = mkdtempSync(join(tmpdir(), 'tessera-file-child-'));
    try {
      const child = join(childDir, 'child.mjs');
      await build({
        stdin: {
          contents: `
            import { createFileStore } from ${JSON.stringify(new URL('../../src/stores/file.ts', import.meta.url).pathname)};
            const store = createFileStore({ path: process.argv[2] });
            try { await store.cleanup(Date.now()); console.log(JSON.stringify({ ok: true })); }
            catch (err) { console.log(JSON.stringify({ name: err.name, address: err.address, message: err.message })); }
          `,
          resolveDir: process.cwd(),
          loader: 'ts',
        },
        bundle: true,
        platform: 'node',
        format: 'esm',
        outfile: child,
        logLevel: 'silent',
      });
      chmodSync(childDir, 0o755);
      chmodSync(child, 0o644);
      const out = await new Promise<string>((resolve, reject) => {
        const proc = spawn(process.execPath, [child, path], {
          uid: process.getuid?.() === 0 ? 65534 : undefined,
          gid: process.getuid?.() === 0 ? 65534 : undefined,
          cwd: childDir,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let text = '';
        let errText = '';
        proc.stdout.on('data', (c: Buffer) => {
          text += c.toString();
        });
        proc.stderr.on('data', (c: Buffer) => {
          errText += c.toString();
        });
        proc.on('error', reject);
        proc.on('exit', () => (text ? resolve(text) : reject(new Error(errText))));
      });
      const result = JSON.parse(out.trim().split('\n').pop()!);
      assert.equal(result.name, 'StoreUnavailableError');
      assert.equal(result.address, path);
      assert.match(result.message, /not writable/);
    } finally {
      rmSync(childDir, { recursive: true, force: true });
    }
  });

  it('ids that are not session ids never become paths', async () => {
    const store = createFileStore({ path: folder() });
    const now = Date.now();
    for (const id of ['../../etc/passwd', '/etc/passwd', `${'a'.repeat(63)}/`, 'A'.repeat(64)]) {
      assert.deepEqual(await store.get(id, now), { record: null, reason: 'not_found' });
      assert.equal(await store.patch(id, { set: { a: 1 } }, now), null);
      assert.equal(await store.destroy(id, 'logout', now), null);
    }
    await assert.rejects(
      store.create(sampleRecord({ id: '../escape' }), { maxSessionsPerUser: 5, now }),
      StoreError,
    );
  });

  it('writes leave no temporary files and a corrupted file is no session', async () => {
    const path = folder();
    const store = createFileStore({ path });
    const now = Date.now();
    const r = sampleRecord({}, now);
    await store.create(r, { maxSessionsPerUser: 5, now });
    await Promise.all(
      Array.from({ length: 30 }, (_, i) => store.patch(r.id, { set: { [`k${i}`]: i } }, now)),
    );
    assert.deepEqual(readdirSync(join(path, 'tmp')), []);
    assert.deepEqual(readdirSync(join(path, 'locks')), []);
    writeFileSync(join(path, 'sessions', `${r.id}.json`), '{"id": trunc');
    assert.deepEqual(await store.get(r.id, now), { record: null, reason: 'not_found' });
  });

  it('a lock left by a crashed process is taken over once stale', async () => {
    const path = folder();
    const store = createFileStore({ path, staleLockAfter: 200, lockTimeout: 2000 });
    const now = Date.now();
    const r = sampleRecord({}, now);
    await store.create(r, { maxSessionsPerUser: 5, now });
    const lockFile = join(path, 'locks', `s-${r.id}.lock`);
    writeFileSync(lockFile, '');
    const old = new Date(Date.now() - 60_000);
    utimesSync(lockFile, old, old);
    const updated = await store.patch(r.id, { set: { after: 'crash' } }, now);
    assert.equal(updated?.data.after, 'crash');
  });

  it('a lock held too long fails with StoreUnavailableError within lockTimeout', async () => {
    const path = folder();
    const store = createFileStore({ path, staleLockAfter: 60_000, lockTimeout: 300 });
    const now = Date.now();
    const r = sampleRecord({}, now);
    await store.create(r, { maxSessionsPerUser: 5, now });
    writeFileSync(join(path, 'locks', `s-${r.id}.lock`), '');
    const started = Date.now();
    await assert.rejects(store.patch(r.id, { set: { a: 1 } }, now), StoreUnavailableError);
    assert.ok(Date.now() - started < 1500);
  });

  it('cleanup walks the folder in batches and removes exactly the expired files', async () => {
    const path = folder();
    const store = createFileStore({ path, batchSize: 64 });
    const now = Date.now();
    const userId = randomUserId();
    for (let i = 0; i < 600; i++) {
      const expired = i % 4 === 0;
      await store.create(
        sampleRecord(
          {
            userId: expired && i % 8 === 0 ? userId : null,
            idleExpiresAt: now + (expired ? 10 : 60_000),
          },
          now,
        ),
        { maxSessionsPerUser: null, now },
      );
    }
    assert.equal(await store.cleanup(now + 20), 150);
    assert.equal(await store.cleanup(now + 20), 0);
    assert.equal(readdirSync(join(path, 'sessions')).length, 450);
    assert.deepEqual(await store.listUser(userId, now), []);
    assert.deepEqual(readdirSync(join(path, 'users')), [], 'the emptied user index is removed');
  });
});
