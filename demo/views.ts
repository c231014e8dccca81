/**
 * The demo's pages: plain server-rendered HTML with inline CSS, usable without JavaScript.
 * Every value from a session or a request goes through `escapeHtml`.
 */
import type { SessionSummary } from '../src/core/manager-api.js';
import { escapeHtml as e, type Refusal } from '../src/http/responses.js';
import { DEMO_CREDENTIALS, type DemoUser } from './users.js';

const CSS = `
*{box-sizing:border-box}body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f4f5f7;color:#1d2430;line-height:1.5}
header{background:#1d2430;color:#fff;padding:.8rem 1.5rem;display:flex;flex-wrap:wrap;align-items:center;gap:.4rem 1.5rem}
header a{color:#cfd8e3;text-decoration:none}header a:hover{color:#fff}header .brand{font-weight:700;color:#fff;margin-right:auto}
header form{margin:0}
main{max-width:52rem;margin:2rem auto;padding:0 1rem}
.card{background:#fff;border-radius:10px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:1.5rem;margin-bottom:1.5rem}
h1{font-size:1.5rem;margin:0 0 1rem}h2{font-size:1.15rem;margin:0 0 .8rem}
label{display:block;font-weight:600;margin:.6rem 0 .2rem}
input[type=text],input[type=password]{width:100%;padding:.55rem .7rem;border:1px solid #c4ccd6;border-radius:6px;font-size:1rem}
button,a.button{display:inline-block;background:#2f6fed;color:#fff;border:0;border-radius:6px;padding:.55rem 1rem;font-size:.95rem;cursor:pointer;margin-top:.8rem;text-decoration:none}
button.secondary{background:#e7ebf0;color:#1d2430}button.danger{background:#d93d3d}
button.link{background:none;color:#cfd8e3;padding:0;margin:0;font-size:1rem}
.flash{padding:.7rem 1rem;border-radius:6px;margin-bottom:1rem}.flash.info{background:#e3f0ff;color:#0b4a9c}.flash.error{background:#fde8e8;color:#9b1c1c}.flash.warn{background:#fff4db;color:#7a4b00}
table{width:100%;border-collapse:collapse}th,td{text-align:left;padding:.55rem .4rem;border-bottom:1px solid #e7ebf0;font-size:.93rem;vertical-align:middle}
td.action{text-align:right}td.action form{margin:0}td.action button{margin:0}
.badge{display:inline-block;white-space:nowrap;background:#d9f2e3;color:#146c3a;border-radius:999px;padding:.1rem .55rem;font-size:.8rem;font-weight:600}
.muted{color:#6b7685;font-size:.9rem}code{background:#eef1f5;padding:.1rem .3rem;border-radius:4px;overflow-wrap:anywhere}
ul.notes{padding-left:1.2rem;overflow-wrap:anywhere}
@media (max-width:640px){
header{padding:.7rem 1rem;gap:.3rem 1rem}main{margin:1rem auto;padding:0 .6rem}.card{padding:1rem}
table.stack thead{display:none}table.stack,table.stack tbody,table.stack tr,table.stack td{display:block;width:100%}
table.stack tr{border-bottom:1px solid #e7ebf0;padding:.5rem 0}table.stack td{border:0;padding:.15rem 0}
table.stack td[data-label]::before{content:attr(data-label) ": ";color:#6b7685;font-size:.85rem}
td.action{text-align:left}td.action button{margin-top:.4rem}
}
`;

export interface Layout {
  title: string;
  /** The logged-in user, `null` for a visitor, `undefined` where the page cannot know (refusals). */
  user: DemoUser | null | undefined;
  csrfToken: string;
  flashes?: Record<string, unknown>;
}

export function page(layout: Layout, body: string): string {
  const nav =
    layout.user === undefined
      ? '<a href="/">Home</a>'
      : layout.user
        ? `<a href="/">Home</a><a href="/devices">Your devices</a>${layout.user.admin ? '<a href="/admin">Admin</a>' : ''}
       <form method="post" action="/logout"><input type="hidden" name="_csrf" value="${e(layout.csrfToken)}"><button class="link" type="submit">Log out (${e(layout.user.username)})</button></form>`
        : '<a href="/login">Log in</a>';
  const flashes = Object.entries(layout.flashes ?? {})
    .map(
      ([kind, text]) =>
        `<div class="flash ${kind === 'error' || kind === 'warn' ? kind : 'info'}" role="status">${e(String(text))}</div>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${e(layout.title)} · Tessera demo</title><style>${CSS}</style></head>
<body><header><span class="brand">Tessera demo</span>${nav}</header>
<main>${flashes}${body}</main></body></html>`;
}

export function loginPage(
  layout: Layout,
  values: { username?: string; error?: string; signedOut?: string | null } = {},
): string {
  const rows = DEMO_CREDENTIALS.map(
    (c) =>
      `<tr><td><code>${e(c.username)}</code></td><td><code>${e(c.password)}</code></td><td class="muted">${e(c.note)}</td></tr>`,
  ).join('');
  return page(
    layout,
    `<div class="card"><h1>Log in</h1>
${values.signedOut ? `<div class="flash warn" role="status">${e(values.signedOut)}</div>` : ''}
${values.error ? `<div class="flash error" role="alert">${e(values.error)}</div>` : ''}
<form method="post" action="/login">
<input type="hidden" name="_csrf" value="${e(layout.csrfToken)}">
<label for="username">Username</label><input id="username" name="username" type="text" autocomplete="username" value="${e(values.username ?? '')}" required>
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Log in</button></form></div>
<div class="card"><h2>Demo users</h2><table class="users"><thead><tr><th>Username</th><th>Password</th><th></th></tr></thead><tbody>${rows}</tbody></table>
<p class="muted">Five wrong passwords for one name (or twenty from one address) within 15 minutes block further attempts for a while.</p></div>`,
  );
}

export function homePage(layout: Layout, notes: string[]): string {
  const list = notes.length
    ? `<ul class="notes">${notes.map((n) => `<li>${e(n)}</li>`).join('')}</ul>`
    : '<p class="muted">No notes yet.</p>';
  return page(
    layout,
    `<div class="card"><h1>Hello, ${e(layout.user?.name ?? '')}</h1>
<p>You are logged in. Your notes live in your server-side session: they survive a restart of the demo and disappear when you log out.</p></div>
<div class="card"><h2>Your notes</h2>${list}
<form method="post" action="/notes"><input type="hidden" name="_csrf" value="${e(layout.csrfToken)}">
<label for="note">Add a note</label><input id="note" name="note" type="text" maxlength="200" required>
<button type="submit">Save in session</button></form>
<form method="post" action="/notes/clear"><input type="hidden" name="_csrf" value="${e(layout.csrfToken)}"><button class="secondary" type="submit">Clear notes</button></form></div>`,
  );
}

function when(ms: number): string {
  return `${new Date(ms).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
}

export function devicesPage(
  layout: Layout,
  sessions: SessionSummary[],
  currentId: string | null,
): string {
  const rows = sessions
    .map((s) => {
      const browser = [
        s.device.browser ?? 'Unknown browser',
        s.device.browserVersion?.split('.')[0],
      ]
        .filter(Boolean)
        .join(' ');
      const os = [s.device.os ?? 'Unknown OS', s.device.osVersion].filter(Boolean).join(' ');
      const current = s.id === currentId;
      const action = current
        ? '<span class="badge">this device</span>'
        : `<form method="post" action="/devices/revoke"><input type="hidden" name="_csrf" value="${e(layout.csrfToken)}"><input type="hidden" name="id" value="${e(s.id)}"><button class="danger" type="submit">Revoke</button></form>`;
      return `<tr data-session="${e(s.id)}"><td>${e(browser)}<br><span class="muted">${e(os)} · ${e(s.device.type)}</span></td>
<td data-label="IP address">${e(s.ip ?? 'unknown')}</td><td data-label="Signed in">${when(s.createdAt)}</td><td data-label="Last seen">${when(s.lastSeenAt)}</td>
<td class="action">${action}</td></tr>`;
    })
    .join('');
  return page(
    layout,
    `<div class="card"><h1>Your devices</h1>
<p class="muted">Every place you are logged in. Revoke one you do not recognise; it is logged out at once.</p>
<table class="stack devices"><thead><tr><th>Device</th><th>IP address</th><th>Signed in</th><th>Last seen</th><th></th></tr></thead><tbody>${rows}</tbody></table>
<form method="post" action="/devices/revoke-others"><input type="hidden" name="_csrf" value="${e(layout.csrfToken)}"><button class="danger" type="submit">Log out everywhere else</button></form></div>`,
  );
}

export function messagePage(layout: Layout, title: string, message: string): string {
  return page(layout, `<div class="card"><h1>${e(title)}</h1><p>${e(message)}</p></div>`);
}

/**
 * The demo's page for the session middleware's own refusals (`refusalPage`): a CSRF token that is
 * missing or stale, the session store down. Who is logged in is not known here, so the header
 * shows only the way home.
 */
export function refusalPage(refusal: Refusal): string {
  const next =
    refusal.kind === 'csrf'
      ? '<p>This usually means the page was open for a long time, or you logged in or out in another tab. Go back, reload the page and try again.</p>'
      : '';
  return page(
    { title: refusal.title, user: undefined, csrfToken: '' },
    `<div class="card refusal"><h1>${e(refusal.title)}</h1><p>${e(refusal.message)}</p>${next}<p><a class="button" href="/">Back to the home page</a></p></div>`,
  );
}
