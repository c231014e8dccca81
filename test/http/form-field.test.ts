/**
 * The CSRF field of a form is looked for in at most `formLimit` bytes: a whole body within them
 * is parsed as usual, a longer one counts only if the field ends inside them (token first), and
 * otherwise it is a 413 whose rest is never read. Hono and handleFetch read a clone, so the route
 * still gets the whole body.
 */
import assert from 'node:assert/strict';
import { Hono } from 'hono';
import { describe, it } from 'vitest';
import { tesseraSession } from '../../src/adapters/hono.js';
import { FormTooLargeError } from '../../src/core/errors.js';
import { fieldInPrefix, formFieldOf } from '../../src/http/form-field.js';
import { createSessionHttp, handleFetch } from '../../src/http/index.js';
import { createSessionManager } from '../../src/index.js';

const URLENCODED = 'application/x-www-form-urlencoded';
const prefix = (text: string, complete: boolean) => ({ bytes: Buffer.from(text), complete });

function multipart(boundary: string, fields: [string, string, string?][]): string {
  return `${fields
    .map(
      ([name, value, filename]) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"` : ''}\r\n\r\n${value}\r\n`,
    )
    .join('')}--${boundary}--\r\n`;
}

describe('fieldInPrefix', () => {
  it('urlencoded: a whole body is parsed; a cut one counts only its finished pairs', () => {
    assert.equal(fieldInPrefix(prefix('a=1&_csrf=tok', true), URLENCODED, '_csrf'), 'tok');
    assert.equal(fieldInPrefix(prefix('a=1', true), URLENCODED, '_csrf'), undefined);
    assert.equal(fieldInPrefix(prefix('_csrf=tok&note=xxxx', false), URLENCODED, '_csrf'), 'tok');
    assert.equal(fieldInPrefix(prefix('note=xx&_csrf=to', false), URLENCODED, '_csrf'), null);
    assert.equal(fieldInPrefix(prefix('note=xxxxxxxx', false), URLENCODED, '_csrf'), null);
  });

  it('multipart: the named part, only once it ends inside the prefix, never a file part', () => {
    const type = 'multipart/form-data; boundary=XyZ';
    const body = multipart('XyZ', [
      ['_csrf', 'tok-é'],
      ['file', 'x'.repeat(100), 'a.bin'],
    ]);
    assert.equal(fieldInPrefix(prefix(body, true), type, '_csrf'), 'tok-é');
    assert.equal(fieldInPrefix(prefix(body.slice(0, 90), false), type, '_csrf'), 'tok-é');
    const later = multipart('XyZ', [
      ['file', 'x'.repeat(100), 'a.bin'],
      ['_csrf', 'tok'],
    ]);
    assert.equal(fieldInPrefix(prefix(later.slice(0, 120), false), type, '_csrf'), null);
    const fileNamed = multipart('XyZ', [['_csrf', 'tok', 'evil.txt']]);
    assert.equal(fieldInPrefix(prefix(fileNamed, true), type, '_csrf'), undefined);
    const quoted = 'multipart/form-data; boundary="a b"';
    assert.equal(
      fieldInPrefix(prefix(multipart('a b', [['_csrf', 'q']]), true), quoted, '_csrf'),
      'q',
    );
  });

  it('formFieldOf reads a clone: the request keeps its whole body', async () => {
    const body = `_csrf=tok&note=${'n'.repeat(5000)}`;
    const request = new Request('https://app.example/', {
      method: 'POST',
      headers: { 'content-type': URLENCODED },
      body,
    });
    assert.equal(await formFieldOf(request, '_csrf', 1024), 'tok');
    assert.equal(await request.text(), body);
    const late = new Request('https://app.example/', {
      method: 'POST',
      headers: { 'content-type': URLENCODED },
      body: `note=${'n'.repeat(5000)}&_csrf=tok`,
    });
    await assert.rejects(formFieldOf(late, '_csrf', 1024), FormTooLargeError);
  });
});

describe('formLimit through handleFetch and Hono', () => {
  async function setup() {
    const manager = createSessionManager({ cleanupInterval: false });
    const { token, csrfToken } = await manager.create({ userId: 'u' });
    const headers = {
      cookie: `__Host-tessera=${token}`,
      'content-type': URLENCODED,
      accept: 'application/json',
    };
    return { manager, csrfToken, headers };
  }

  it('handleFetch: token first in a long form passes (the handler reads it all); token last is a 413', async () => {
    const { manager, csrfToken, headers } = await setup();
    const http = createSessionHttp(manager, { formLimit: 1024 });
    const app = (body: string) =>
      handleFetch(
        http,
        new Request('https://app.example/', { method: 'POST', headers, body }),
        async (request) => Response.json({ length: (await request.text()).length }),
      );
    const first = `_csrf=${csrfToken}&note=${'n'.repeat(5000)}`;
    const ok = await app(first);
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { length: first.length });
    const last = await app(`note=${'n'.repeat(5000)}&_csrf=${csrfToken}`);
    assert.equal(last.status, 413);
    assert.match(((await last.json()) as { message: string }).message, /1024 bytes/);
    await manager.close();
  });

  it('Hono: the same, and a bad formLimit is a ConfigError at construction', async () => {
    const { manager, csrfToken, headers } = await setup();
    const app = new Hono();
    app.use('*', tesseraSession(manager, { formLimit: 1024 }));
    app.post('/', async (c) => c.json({ note: String((await c.req.parseBody()).note).length }));
    const ok = await app.request('https://app.example/', {
      method: 'POST',
      headers,
      body: `_csrf=${csrfToken}&note=${'n'.repeat(5000)}`,
    });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { note: 5000 });
    const late = await app.request('https://app.example/', {
      method: 'POST',
      headers,
      body: `note=${'n'.repeat(5000)}&_csrf=${csrfToken}`,
    });
    assert.equal(late.status, 413);
    // A body an earlier middleware already parsed is read from Hono's cache, not cloned.
    const parsedFirst = new Hono();
    parsedFirst.use('*', async (c, next) => {
      await c.req.parseBody();
      await next();
    });
    parsedFirst.use('*', tesseraSession(manager, { formLimit: 1024 }));
    parsedFirst.post('/', (c) => c.json({ ok: true }));
    const reused = await parsedFirst.request('https://app.example/', {
      method: 'POST',
      headers,
      body: `_csrf=${csrfToken}&note=x`,
    });
    assert.equal(reused.status, 200);
    for (const formLimit of [0, -1, 1.5, '1mb'])
      assert.throws(
        () => createSessionHttp(manager, { formLimit: formLimit as number }),
        (err: Error) => err.name === 'ConfigError' && /formLimit/.test(err.message),
      );
    await manager.close();
  });
});
