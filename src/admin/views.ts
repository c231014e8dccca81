/**
 * The dashboard's HTML: plain server-rendered pages with inline CSS and forms, no script (so a
 * strict CSP works). Every value from a session (user id, IP, user agent) is escaped here.
 */
import type { ManagerCounters } from '../core/manager-api.js';
import type { HealthReport, StoreCapabilities, StoreStats } from '../core/types.js';
import { escapeHtml as h } from '../http/responses.js';
import { analyticsSection } from './analytics-view.js';
import { activityChart, barChart } from './charts.js';
import type { ActivitySample } from './history.js';
import type { SessionView, TerminatedView } from './json.js';

export interface PageFrame {
  title: string;
  basePath: string;
  /** Which tab is current. */
  tab: 'overview' | 'sessions' | 'audit';
  storeName: string;
  notice?: { kind: 'info' | 'error'; text: string } | undefined;
  /** The header's way back to the host app. */
  appLink?: { href: string; label: string } | undefined;
  /** Who is looking, and the form that logs them out (the host app's logout endpoint). */
  account?:
    | {
        userId: string | null;
        logout?: { action: string; csrfField: string; csrfToken: string } | undefined;
      }
    | undefined;
}

const CSS = `
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1c2430;background:#f4f6f9}
header{background:#1f2a44;color:#fff;padding:10px 24px;display:flex;flex-wrap:wrap;align-items:center;gap:8px 24px}
header h1{font-size:17px;margin:0;font-weight:600}header nav{display:flex;flex-wrap:wrap;gap:4px 16px}header nav a{color:#c9d4ea;text-decoration:none;padding:4px 0}
header nav a.current{color:#fff;border-bottom:2px solid #6ea8fe}header .end{margin-left:auto;display:flex;flex-wrap:wrap;align-items:center;gap:4px 16px;color:#c9d4ea;font-size:13px}
header .end a{color:#fff}header .end form{margin:0}header .end button{color:#1f2a44}
main{padding:20px 24px;max-width:1440px}h2{font-size:16px;margin:24px 0 10px}
.cards,.figures{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:12px}
@media (min-width:700px){.cards,.figures{grid-template-columns:repeat(4,minmax(0,1fr))}}
.figures+p{margin-top:8px}
@media (min-width:1200px){.cards{grid-template-columns:repeat(8,minmax(0,1fr))}}
.card{background:#fff;border:1px solid #dde3ec;border-radius:8px;padding:12px 14px}.card .n{font-size:26px;font-weight:600}.card .k{color:#5b6678;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.panel{background:#fff;border:1px solid #dde3ec;border-radius:8px;padding:14px 16px;margin-top:12px}
.charts{display:flex;flex-wrap:wrap;gap:12px}.chart{margin:0;background:#fff;border:1px solid #dde3ec;border-radius:8px;padding:12px 14px;min-width:0;max-width:100%}
.chart svg{display:block;max-width:100%;height:auto}
figcaption{font-weight:600;margin-bottom:8px}svg .bar{fill:#4c7bd9}svg .label{fill:#5b6678;font-size:12px}svg .value{fill:#1c2430;font-size:12px}
svg .grid{stroke:#e6eaf0;stroke-width:1}svg .line{fill:none;stroke:#2f6fde;stroke-width:2}svg .area{fill:#2f6fde22}svg .dot{fill:#2f6fde}
.activity{display:flex;align-items:flex-start}.activity svg{display:block;overflow:visible}.activity .plot{flex:1;min-width:0}
table{width:100%;border-collapse:collapse;background:#fff;border:1px solid #dde3ec;border-radius:8px;overflow:hidden}
th,td{text-align:left;padding:7px 9px;border-bottom:1px solid #edf0f4;vertical-align:middle;white-space:nowrap}th{background:#f0f3f8;font-size:12px;color:#47536a;text-transform:uppercase;letter-spacing:.03em}
td.ua{max-width:220px;overflow:hidden;text-overflow:ellipsis}code{font:12px ui-monospace,Menlo,monospace}
form.inline{display:inline}button,a.button{font:inherit;font-size:12px;padding:3px 9px;border-radius:5px;border:1px solid #c4ccd8;background:#fff;color:#1c2430;cursor:pointer;text-decoration:none;display:inline-block}
button.danger{border-color:#d9534f;color:#b52b27}button.danger:hover{background:#fbeaea}button.big,a.big{font-size:14px;padding:6px 14px}
.filter{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin-bottom:12px}.filter input{font:inherit;padding:5px 8px;border:1px solid #c4ccd8;border-radius:5px;width:240px;max-width:100%;min-width:0}
.notice{padding:10px 14px;border-radius:6px;margin-bottom:14px;border:1px solid}.notice.info{background:#e8f1ff;border-color:#b6d0fb}.notice.error{background:#fdecec;border-color:#f2b8b8}.notice.warn{background:#fff4db;border-color:#f0cf86}
.muted{color:#6b7588}.pager{display:flex;flex-wrap:wrap;gap:12px;align-items:center;margin-top:10px}.pager a{color:#2f6fde}
.scroll{overflow-x:auto}.badge{display:inline-block;white-space:nowrap;padding:1px 7px;border-radius:10px;background:#eef1f6;font-size:12px}
dl.facts{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:4px 16px;margin:0 0 14px}dl.facts dt{color:#5b6678}dl.facts dd{margin:0;overflow-wrap:anywhere}
.actions{display:flex;flex-wrap:wrap;gap:10px;align-items:center;margin-top:14px}
@media (max-width:720px){
header{padding:10px 12px;gap:6px 16px}header .end{margin-left:0}main{padding:12px}
table.stack,table.stack tbody,table.stack tr,table.stack td{display:block;width:100%}table.stack thead{display:none}
table.stack tr{border-bottom:1px solid #dde3ec;padding:8px 10px}table.stack td{border:0;padding:2px 0;white-space:normal;overflow-wrap:anywhere}
table.stack td[data-label]::before{content:attr(data-label) ": ";color:#6b7588;font-size:12px}
.activity .odd{display:none}.panel{padding:12px 10px}.filter input{flex:1 1 140px;width:auto}
}
`;

export function layout(frame: PageFrame, body: string): string {
  const tab = (id: PageFrame['tab'], href: string, label: string) =>
    `<a href="${h(frame.basePath + href)}"${frame.tab === id ? ' class="current" aria-current="page"' : ''}>${label}</a>`;
  const notice = frame.notice
    ? `<div class="notice ${frame.notice.kind}" role="status">${h(frame.notice.text)}</div>`
    : '';
  const back = frame.appLink
    ? `<a href="${h(frame.appLink.href)}" class="app-link">← ${h(frame.appLink.label)}</a>`
    : '';
  const who = frame.account?.userId ? `<span class="who">${h(frame.account.userId)}</span>` : '';
  const logout = frame.account?.logout
    ? `<form method="post" action="${h(frame.account.logout.action)}">${hidden(frame.account.logout.csrfField, frame.account.logout.csrfToken)}<button type="submit">Log out</button></form>`
    : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>${h(frame.title)} · Tessera admin</title><style>${CSS}</style></head><body><header><h1>Tessera admin</h1><nav>${tab('overview', '/', 'Overview')}${tab('sessions', '/sessions', 'Sessions')}${tab('audit', '/audit', 'Audit trail')}</nav><div class="end"><span class="store">store: ${h(frame.storeName)}</span>${back}${who}${logout}</div></header><main>${notice}${body}</main></body></html>`;
}

/** Epoch ms as `2025-05-01 14:03:22 UTC`: unambiguous for admins in any time zone. */
export function when(at: number | null): string {
  if (at === null) return '—';
  return `${new Date(at).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A table cell's time: `2025-05-01 14:03` (UTC, as the table header says), seconds on hover. */
export function cellTime(iso: string): string {
  return `<time datetime="${h(iso)}" title="${h(when(Date.parse(iso)))}">${h(iso.slice(0, 16).replace('T', ' '))}</time>`;
}

function span(ms: number): string {
  if (ms >= 2 * 3_600_000) return `${Math.round(ms / 3_600_000)} hours`;
  if (ms >= 2 * 60_000) return `${Math.round(ms / 60_000)} minutes`;
  return `${Math.round(ms / 1000)} seconds`;
}

function card(label: string, value: number | string): string {
  return `<div class="card"><div class="n">${h(String(value))}</div><div class="k">${h(label)}</div></div>`;
}

export interface OverviewModel {
  sessions: StoreStats | null;
  counters: ManagerCounters;
  health: HealthReport;
  capabilities: StoreCapabilities;
  samples: ActivitySample[];
  from: number;
  to: number;
  sampleInterval: number;
}

export function overviewPage(frame: PageFrame, model: OverviewModel): string {
  const { sessions, counters } = model;
  const cards = [
    card('Active sessions', sessions ? sessions.activeSessions : 'n/a'),
    card('Distinct users', sessions ? sessions.distinctUsers : 'n/a'),
    card('Anonymous sessions', sessions ? sessions.anonymousSessions : 'n/a'),
    card('Logins', counters.successfulLogins),
    card('Failed logins', counters.failedLogins),
    card('Rate-limited attempts', counters.rateLimited),
    card('Evictions', counters.evicted),
    card('Sessions created', counters.created),
  ].join('');
  // The badge carries the state only, so no padded badge edge sits before the sentence's period.
  const health = model.health.ok
    ? `<span class="badge">healthy</span>${model.health.latencyMs !== undefined ? ` (${model.health.latencyMs} ms round trip)` : ''}`
    : `<span class="badge" style="background:#fdecec">unhealthy</span> (${h(model.health.detail ?? 'no detail')})`;
  const breakdown = sessions
    ? `<div class="charts">${barChart('By browser', sessions.byBrowser)}${barChart('By operating system', sessions.byOs)}${barChart('By device type', sessions.byDeviceType)}</div>`
    : `<div class="notice info">The ${h(frame.storeName)} store cannot count its sessions, so there are no live counts or breakdowns here. The counters above are this process's since it started.</div>`;
  const minutes = Math.round(model.sampleInterval / 60_000);
  const chart = sessions
    ? model.samples.length < 2
      ? `<p class="muted">The chart fills in as this dashboard runs: it samples the active-session count at most once every ${minutes >= 1 ? `${minutes} minute(s)` : `${Math.round(model.sampleInterval / 1000)} s`} while it is used (${model.samples.length} sample so far).</p>${activityChart(model.samples, model.from, model.to)}`
      : activityChart(model.samples, model.from, model.to)
    : '<p class="muted">Not available for this store.</p>';
  return layout(
    frame,
    `<div class="cards">${cards}</div>
<p class="muted health">Store health: ${health}. Logins, failed logins, rate-limited attempts, evictions and creations count this process's activity since it started.</p>
<h2>Active sessions, last ${span(model.to - model.from)} (UTC)</h2><div class="panel">${chart}</div>
<h2>Devices</h2>${breakdown}
${analyticsSection(sessions)}`,
  );
}

export interface SessionsModel {
  listable: boolean;
  userFilter: string;
  sessions: SessionView[];
  total: number;
  offset: number;
  pageSize: number;
  currentSessionId: string;
}

export function hidden(name: string, value: string): string {
  return `<input type="hidden" name="${h(name)}" value="${h(value)}">`;
}

/**
 * A button that opens a confirmation page (a GET form: nothing ends until that page's own
 * button, which carries the CSRF token, is pressed).
 */
function confirmButton(
  action: string,
  fields: Record<string, string>,
  label: string,
  title?: string,
): string {
  const inputs = Object.entries(fields)
    .map(([k, v]) => hidden(k, v))
    .join('');
  return `<form class="inline" method="get" action="${h(action)}">${inputs}<button class="danger" type="submit"${title ? ` title="${h(title)}"` : ''}>${h(label)}</button></form>`;
}

export function sessionsPage(frame: PageFrame, model: SessionsModel): string {
  if (!model.listable) {
    return layout(
      frame,
      `<div class="notice info" role="note"><strong>This store cannot list sessions.</strong> The ${h(frame.storeName)} store keeps no index of all sessions (Memcached has no way to enumerate keys; a cookie store keeps sessions in the browsers), so there is no table here. Users can still see and end their own sessions where the store has a per-user index, and a session can be ended by its id through the JSON API or <code>tessera sessions revoke</code>.</div>`,
    );
  }
  const base = frame.basePath;
  const filter = `<form class="filter" method="get" action="${h(`${base}/sessions`)}"><label for="user">User ID</label><input id="user" name="user" value="${h(model.userFilter)}" placeholder="e.g. user-alice"><button type="submit">Filter</button>${model.userFilter ? `<a href="${h(`${base}/sessions`)}">clear</a>` : ''}</form>`;
  // Offered only when the filtered user has something to end.
  const userAll =
    model.userFilter && model.total > 0
      ? confirmButton(
          `${base}/users/terminate`,
          { userId: model.userFilter, return: model.userFilter },
          `Terminate all sessions of ${model.userFilter}`,
        )
      : '';
  const rows = model.sessions
    .map((s) => {
      const you = s.id === model.currentSessionId ? ' <span class="badge">this session</span>' : '';
      const user = s.userId
        ? `<a href="${h(`${base}/sessions?user=${encodeURIComponent(s.userId)}`)}">${h(s.userId)}</a>`
        : '<span class="muted">anonymous</span>';
      const endUser = s.userId
        ? confirmButton(
            `${base}/users/terminate`,
            { userId: s.userId, return: model.userFilter },
            'All of user',
            `End every session of ${s.userId}`,
          )
        : '';
      const endOne = confirmButton(
        `${base}/sessions/terminate`,
        { id: s.id, return: model.userFilter },
        'Terminate',
      );
      const d = s.device;
      return `<tr data-session-id="${h(s.id)}"><td>${user}${you}</td><td data-label="Session"><code title="${h(s.id)}">${h(s.id.slice(0, 10))}…</code></td><td data-label="IP">${h(s.ip ?? '—')}</td><td data-label="Browser">${h([d.browser, d.browserVersion?.split('.')[0]].filter(Boolean).join(' ') || '—')}</td><td data-label="OS">${h([d.os, d.osVersion].filter(Boolean).join(' ') || '—')}</td><td data-label="Device">${h(d.type)}</td><td data-label="Created">${cellTime(s.createdAt)}</td><td data-label="Last seen">${cellTime(s.lastSeenAt)}</td><td data-label="Expires">${cellTime(s.expiresAt)}</td><td class="actions-cell">${endOne} ${endUser}</td></tr>`;
    })
    .join('');
  const table = model.sessions.length
    ? `<div class="scroll"><table class="stack"><thead><tr><th>User</th><th>Session</th><th>IP</th><th>Browser</th><th>OS</th><th>Device</th><th>Created (UTC)</th><th>Last seen</th><th>Expires</th><th>Actions</th></tr></thead><tbody>${rows}</tbody></table></div>`
    : `<p class="muted">No active sessions${model.userFilter ? ` for ${h(model.userFilter)}` : ''}.</p>`;
  return layout(
    frame,
    `${filter}<p>${model.total} active session(s)${model.userFilter ? ` of <strong>${h(model.userFilter)}</strong>` : ''}. ${userAll}</p>${table}${pager(`${base}/sessions`, model.userFilter ? { user: model.userFilter } : {}, model.offset, model.pageSize, model.total)}`,
  );
}

function pager(
  path: string,
  params: Record<string, string>,
  offset: number,
  pageSize: number,
  total: number,
): string {
  if (total <= pageSize) return '';
  const page = Math.floor(offset / pageSize) + 1;
  const pages = Math.ceil(total / pageSize);
  const link = (p: number, label: string) =>
    `<a href="${h(`${path}?${new URLSearchParams({ ...params, page: String(p) })}`)}">${label}</a>`;
  return `<div class="pager">${page > 1 ? link(page - 1, '← Previous') : ''}<span class="muted">page ${page} of ${pages} (rows ${offset + 1}–${Math.min(offset + pageSize, total)} of ${total})</span>${page < pages ? link(page + 1, 'Next →') : ''}</div>`;
}

export interface AuditModel {
  available: boolean;
  sessions: TerminatedView[];
  total: number;
  offset: number;
  pageSize: number;
}

export function auditPage(frame: PageFrame, model: AuditModel): string {
  if (!model.available) {
    return layout(
      frame,
      `<div class="notice info" role="note"><strong>No audit trail.</strong> The ${h(frame.storeName)} store forgets a session when it ends, so it cannot show terminated sessions and their reasons. The SQL and hybrid stores keep one.</div>`,
    );
  }
  const rows = model.sessions
    .map(
      (s) =>
        `<tr><td>${s.userId ? h(s.userId) : '<span class="muted">anonymous</span>'}</td><td data-label="Session"><code title="${h(s.id)}">${h(s.id.slice(0, 10))}…</code></td><td data-label="Reason"><span class="badge">${h(s.terminationReason)}</span></td><td data-label="Terminated">${cellTime(s.terminatedAt)}</td><td data-label="IP">${h(s.ip ?? '—')}</td><td data-label="Browser">${h(s.device.browser ?? '—')}</td><td data-label="OS">${h(s.device.os ?? '—')}</td><td data-label="Created">${cellTime(s.createdAt)}</td><td data-label="Last seen">${cellTime(s.lastSeenAt)}</td></tr>`,
    )
    .join('');
  const table = model.sessions.length
    ? `<div class="scroll"><table class="stack"><thead><tr><th>User</th><th>Session</th><th>Reason</th><th>Terminated (UTC)</th><th>IP</th><th>Browser</th><th>OS</th><th>Created</th><th>Last seen</th></tr></thead><tbody>${rows}</tbody></table></div>`
    : '<p class="muted">No terminated sessions are kept yet.</p>';
  return layout(
    frame,
    `<p>${model.total} terminated session(s) kept, most recent first.</p>${table}${pager(`${frame.basePath}/audit`, {}, model.offset, model.pageSize, model.total)}`,
  );
}

export function messagePage(
  frame: Omit<PageFrame, 'tab'> & { tab?: PageFrame['tab'] },
  heading: string,
  text: string,
  back?: string,
): string {
  return layout(
    { ...frame, tab: frame.tab ?? 'overview' },
    `<h2>${h(heading)}</h2><p>${h(text)}</p>${back ? `<p><a href="${h(back)}">← Back to the sessions</a></p>` : ''}`,
  );
}
