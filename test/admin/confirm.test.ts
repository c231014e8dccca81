/**
 * The dashboard's destructive actions go through a confirmation page that works without script:
 * the table's buttons are GET forms that only open it, it names what will end and warns when that
 * includes the admin's own session, and only its POST (with the CSRF token) acts. Bulk actions are
 * offered only when there is something to end. The header links back to the app and logs out.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'vitest';
import { type AdminHandler, createAdminHandler } from '../../src/admin/index.js';
import type { SessionManager } from '../../src/core/manager-api.js';
import { createSessionManager } from '../../src/index.js';
import { createMemoryStore } from '../../src/stores/memory.js';

const UA =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1';

let manager: SessionManager;
afterEach(async () => {
  await manager?.close();
});

async function setup(extra: { appLink?: { href: string; label: string }; logoutUrl?: string }) {
  manager = createSessionManager({ store: createMemoryStore(), cleanupInterval: false });
  const root = await manager.create({ userId: 'root', userAgent: UA, ip: '192.0.2.1' });
  const admin = createAdminHandler({
    manager,
    authorize: (s) => s.userId === 'root',
    ...extra,
  });
  return { admin, root: root.session };
}

const get = async (admin: AdminHandler, path: string, session: unknown) => {
  const res = await admin(new Request(`http://localhost${path}`), { session: session as never });
  return { status: res.status, html: await res.text(), headers: res.headers };
};

/** The forms of a page: method, action and hidden fields. */
function forms(html: string) {
  return [...html.matchAll(/<form([^>]*)>([\s\S]*?)<\/form>/g)].map((m) => ({
    method: /method="(\w+)"/.exec(m[1]!)?.[1] ?? 'get',
    action: /action="([^"]*)"/.exec(m[1]!)?.[1] ?? '',
    fields: Object.fromEntries(
      [...m[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((f) => [
        f[1]!,
        f[2]!,
      ]),
    ),
    button: />([^<]+)<\/button>/.exec(m[2]!)?.[1] ?? '',
  }));
}

describe('admin dashboard: confirmation before ending sessions', () => {
  it('the table only opens confirmation pages; nothing ends on the first click', async () => {
    const { admin, root } = await setup({});
    const alice = await manager.create({ userId: 'alice', userAgent: UA, ip: '203.0.113.5' });
    const page = await get(admin, '/admin/sessions', root);
    assert.equal(page.status, 200);
    const rowForms = forms(page.html).filter((f) => f.action.endsWith('/terminate'));
    assert.ok(rowForms.length >= 3, 'Terminate and All of user per row');
    for (const form of rowForms) {
      assert.equal(form.method, 'get', `${form.button} opens a page, it does not post`);
      assert.equal(form.fields._csrf, undefined, 'no CSRF token needed to look');
    }
    const terminate = rowForms.find((f) => f.button === 'Terminate' && f.fields.id)!;
    const confirm = await get(
      admin,
      `${terminate.action}?${new URLSearchParams(terminate.fields)}`,
      root,
    );
    assert.equal(confirm.status, 200);
    assert.match(confirm.html, /Terminate this session\?/);
    // Opening the page changed nothing.
    assert.ok((await manager.validate(alice.token)).session, 'alice is still logged in');

    const aliceConfirm = await get(
      admin,
      `/admin/sessions/terminate?id=${alice.session.id}&return=`,
      root,
    );
    assert.match(aliceConfirm.html, /alice/);
    assert.match(aliceConfirm.html, /203\.0\.113\.5/);
    assert.match(aliceConfirm.html, /Mobile Safari 17 · iOS 17\.4 · mobile/);
    assert.doesNotMatch(aliceConfirm.html, /This is your own session/);
    const [act] = forms(aliceConfirm.html).filter((f) => f.method === 'post');
    assert.equal(act?.action, '/admin/sessions/terminate');
    assert.equal(act?.fields._csrf, root.csrf);
    assert.equal(act?.fields.id, alice.session.id);
    assert.equal(act?.button, 'Terminate session');
    assert.match(aliceConfirm.html, /<a class="button big" href="\/admin\/sessions">Cancel<\/a>/);

    // The confirmed POST acts.
    const done = await admin(
      new Request('http://localhost/admin/sessions/terminate', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(act!.fields),
      }),
      { session: root },
    );
    assert.equal(done.status, 303);
    assert.equal((await manager.validate(alice.token)).session, null);

    // Asked again, the page says it already ended, and offers nothing to press.
    const ended = await get(admin, `/admin/sessions/terminate?id=${alice.session.id}`, root);
    assert.equal(ended.status, 404);
    assert.match(ended.html, /That session has already ended/);
    assert.equal(forms(ended.html).filter((f) => f.method === 'post').length, 0);
    const bad = await get(admin, '/admin/sessions/terminate?id=nope', root);
    assert.equal(bad.status, 400);
    assert.match(bad.html, /That is not a session id/);
  });

  it('warns before the admin ends their own session, or all sessions of their own user', async () => {
    const { admin, root } = await setup({});
    await manager.create({ userId: 'root', userAgent: UA });
    const own = await get(admin, `/admin/sessions/terminate?id=${root.id}`, root);
    assert.match(own.html, /This is your own session\.<\/strong> Ending it logs you out/);
    assert.equal(
      forms(own.html).find((f) => f.method === 'post')?.button,
      'Terminate my own session',
    );
    const ownUser = await get(admin, '/admin/users/terminate?userId=root', root);
    assert.match(ownUser.html, /Terminate all 2 session\(s\) of root\?/);
    assert.match(ownUser.html, /This is your own session\.<\/strong> They include the one/);
    const other = await manager.create({ userId: 'bob' });
    const bob = await get(admin, '/admin/users/terminate?userId=bob&return=bob', root);
    assert.doesNotMatch(bob.html, /your own session/);
    const act = forms(bob.html).find((f) => f.method === 'post')!;
    assert.deepEqual(act.fields, { _csrf: root.csrf, userId: 'bob', return: 'bob' });
    assert.equal(act.button, 'Terminate 1 session(s)');
    assert.ok((await manager.validate(other.token)).session, 'looking ended nothing');
  });

  it('offers bulk actions only when there is something to end', async () => {
    const { admin, root } = await setup({});
    const empty = await get(admin, '/admin/sessions?user=alice', root);
    assert.match(empty.html, /No active sessions for alice/);
    assert.doesNotMatch(empty.html, /Terminate all sessions of alice/);
    const confirm = await get(admin, '/admin/users/terminate?userId=alice', root);
    assert.match(confirm.html, /<strong>alice<\/strong> has no active sessions/);
    assert.equal(forms(confirm.html).filter((f) => f.method === 'post').length, 0);

    await manager.create({ userId: 'alice' });
    const one = await get(admin, '/admin/sessions?user=alice', root);
    const bulk = forms(one.html).find((f) => f.button === 'Terminate all sessions of alice');
    assert.ok(bulk, 'offered once alice has a session');
    assert.equal(bulk.method, 'get');
    assert.equal(bulk.action, '/admin/users/terminate');
  });
});

describe('admin dashboard: header and overview', () => {
  it('the header links back to the app and logs out with the CSRF token, when configured', async () => {
    const { admin, root } = await setup({
      appLink: { href: '/', label: 'Back to the demo' },
      logoutUrl: '/logout',
    });
    const page = await get(admin, '/admin/', root);
    assert.match(page.html, /<a href="\/" class="app-link">← Back to the demo<\/a>/);
    assert.match(page.html, /<span class="who">root<\/span>/);
    const logout = forms(page.html).find((f) => f.action === '/logout');
    assert.deepEqual(logout, {
      method: 'post',
      action: '/logout',
      fields: { _csrf: root.csrf },
      button: 'Log out',
    });

    const bare = await setup({});
    const plain = await get(bare.admin, '/admin/', bare.root);
    assert.doesNotMatch(plain.html, /app-link|Log out/);
  });

  it('the store health reads as one sentence, with no space before its period', async () => {
    const { admin, root } = await setup({});
    const page = await get(admin, '/admin/', root);
    const health = /<p class="muted health">([\s\S]*?)<\/p>/.exec(page.html)?.[1] ?? '';
    const text = health.replace(/<[^>]+>/g, '');
    assert.match(text, /^Store health: healthy \(\d+(\.\d+)? ms round trip\)\. Logins/);
    assert.doesNotMatch(text, / \./);
  });
});
