/**
 * Which cookies a request's response changes, decided from the session's state after its writes
 * were saved. One function, so that `RequestSession.commit()` and the adapters' question "is
 * there anything to commit at all?" (`RequestSession.needsCommit`) can never disagree.
 */
import type { CommitOutcome } from './request-session-init.js';

/** What the decision reads of a request's session. */
export interface CookieState {
  /** The token changed in this request (created, regenerated or destroyed). */
  tokenChanged: boolean;
  token: string | null;
  record: { readonly lastSeenAt: number; readonly csrf: string } | null;
  /** Cookies carry the token (not an API client's header). */
  usesCookies: boolean;
  /** Another request ended or rotated the session while this one ran. */
  endedElsewhere: boolean;
  /** Epoch ms just before the session was read. */
  loadedAt: number;
  /** The CSRF cookie the request carried. */
  csrfCookie: string | null;
  /** The pre-session CSRF token this request issued, or null. */
  preCsrfIssued: string | null;
}

/**
 * The cookies to set or clear. `ifLive`: the outcome stands only if the session is still live
 * (a slid or corrected cookie of a session this request did not write): re-setting a token that a
 * login rotated while this request ran would log the browser out of the new session.
 */
export function cookieOutcome(s: CookieState): { outcome: CommitOutcome; ifLive: boolean } {
  if (s.tokenChanged)
    return {
      outcome: {
        sessionToken: s.token,
        csrfToken: s.record ? s.record.csrf : s.preCsrfIssued,
      },
      ifLive: false,
    };
  // An API client's token travels in a header: there is no cookie to refresh. Or another request
  // ended or rotated this session: the browser may already hold the session that replaced it (a
  // login in another tab), so neither cookie is touched.
  if (!s.usesCookies || s.endedElsewhere) return { outcome: {}, ifLive: false };
  if (s.record && s.token) {
    // Slide the cookie's Max-Age when this request slid the session's idle expiry.
    const slid = s.record.lastSeenAt >= s.loadedAt;
    const csrfStale = s.csrfCookie !== s.record.csrf;
    if (!slid && !csrfStale) return { outcome: {}, ifLive: false };
    return {
      outcome: { ...(slid ? { sessionToken: s.token } : {}), csrfToken: s.record.csrf },
      ifLive: true,
    };
  }
  return { outcome: s.preCsrfIssued ? { csrfToken: s.preCsrfIssued } : {}, ifLive: false };
}
