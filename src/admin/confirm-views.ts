/**
 * The confirmation pages in front of the dashboard's destructive actions: what will end, a warning
 * when it includes the admin's own session, and the one button (a POST with the CSRF token) that
 * acts. Without script: the table's buttons only open these pages.
 */
import { escapeHtml as h } from '../http/responses.js';
import type { SessionView } from './json.js';
import { cellTime, hidden, layout, type PageFrame } from './views.js';

export interface ConfirmSessionModel {
  session: SessionView;
  /** The session is the one viewing the page. */
  own: boolean;
  csrfToken: string;
  /** The user filter to return to. */
  returnTo: string;
  /** The sessions page to go back to on "Cancel". */
  back: string;
}

function device(s: SessionView): string {
  const d = s.device;
  const browser = [d.browser, d.browserVersion?.split('.')[0]].filter(Boolean).join(' ');
  const os = [d.os, d.osVersion].filter(Boolean).join(' ');
  return [browser, os, d.type].filter(Boolean).join(' · ') || 'unknown device';
}

function ownWarning(text: string): string {
  return `<div class="notice warn own-session" role="alert"><strong>This is your own session.</strong> ${h(text)}</div>`;
}

function form(action: string, fields: Record<string, string>, label: string, back: string) {
  const inputs = Object.entries(fields)
    .map(([k, v]) => hidden(k, v))
    .join('');
  return `<form method="post" action="${h(action)}" class="actions">${inputs}<button class="danger big" type="submit">${h(label)}</button><a class="button big" href="${h(back)}">Cancel</a></form>`;
}

export function confirmSessionPage(frame: PageFrame, model: ConfirmSessionModel): string {
  const s = model.session;
  const facts = `<dl class="facts"><dt>User</dt><dd>${s.userId ? h(s.userId) : 'anonymous'}</dd><dt>Session</dt><dd><code>${h(s.id)}</code></dd><dt>Device</dt><dd>${h(device(s))}</dd><dt>IP</dt><dd>${h(s.ip ?? '—')}</dd><dt>Created</dt><dd>${cellTime(s.createdAt)} UTC</dd><dt>Last seen</dt><dd>${cellTime(s.lastSeenAt)} UTC</dd></dl>`;
  const warning = model.own ? ownWarning('Ending it logs you out of this dashboard at once.') : '';
  return layout(
    frame,
    `<div class="panel confirm"><h2>Terminate this session?</h2>${warning}<p>The device using it is logged out at once and must log in again.</p>${facts}${form(
      `${frame.basePath}/sessions/terminate`,
      { _csrf: model.csrfToken, id: s.id, return: model.returnTo },
      model.own ? 'Terminate my own session' : 'Terminate session',
      model.back,
    )}</div>`,
  );
}

export interface ConfirmUserModel {
  userId: string;
  /** The user's live sessions (the first page) and how many there are. */
  sessions: SessionView[];
  total: number;
  /** The user is the one viewing the page. */
  own: boolean;
  csrfToken: string;
  returnTo: string;
  back: string;
}

export function confirmUserPage(frame: PageFrame, model: ConfirmUserModel): string {
  if (model.total === 0)
    return layout(
      frame,
      `<div class="panel confirm"><h2>Nothing to terminate</h2><p><strong>${h(model.userId)}</strong> has no active sessions.</p><p><a href="${h(model.back)}">← Back to the sessions</a></p></div>`,
    );
  const list = model.sessions
    .map(
      (s) =>
        `<li>${h(device(s))}, ${h(s.ip ?? 'unknown IP')}, last seen ${cellTime(s.lastSeenAt)} UTC</li>`,
    )
    .join('');
  const more =
    model.total > model.sessions.length
      ? `<p class="muted">…and ${model.total - model.sessions.length} more.</p>`
      : '';
  const warning = model.own
    ? ownWarning(
        'They include the one you are using: you will be logged out of this dashboard too.',
      )
    : '';
  return layout(
    frame,
    `<div class="panel confirm"><h2>Terminate all ${model.total} session(s) of ${h(model.userId)}?</h2>${warning}<p>Every device of this user is logged out at once:</p><ul>${list}</ul>${more}${form(
      `${frame.basePath}/users/terminate`,
      { _csrf: model.csrfToken, userId: model.userId, return: model.returnTo },
      `Terminate ${model.total} session(s)`,
      model.back,
    )}</div>`,
  );
}
