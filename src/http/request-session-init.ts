/**
 * What the HTTP handler and a request's session exchange: how the session is built for a request
 * and what its commit decided about the cookies.
 */
import type { Session, SessionManager } from '../core/manager-api.js';
import type { SessionData } from '../core/types.js';
import type { SessionMiss } from './session-miss.js';

/** How the token reached the server: a browser cookie, or an API client's header. */
export type TokenSource = 'cookie' | 'bearer' | null;

/** What the handler passes in when it builds the session for a request. */
export interface RequestSessionInit<Data extends SessionData> {
  manager: SessionManager<Data>;
  record: Session<Data> | null;
  token: string | null;
  source: TokenSource;
  /** The CSRF cookie's value (the pre-session token of an anonymous visitor). */
  csrfCookie: string | null;
  ip: string | null;
  userAgent: string | null;
  /** Epoch ms just before the session was read, to tell whether this request touched it. */
  loadedAt: number;
  /** Why the presented token found no session. @default null */
  miss?: SessionMiss | null;
  /**
   * Loaded read-only (a WebSocket upgrade: no response carries a cookie): every change throws
   * `SessionReadOnlyError` naming this. @default undefined (writable)
   */
  readOnly?: string;
}

/** What `commit()` decided about cookies; the handler turns it into Set-Cookie headers. */
export interface CommitOutcome {
  /** Set the session cookie to this token (`null`: clear it; `undefined`: leave it). */
  sessionToken?: string | null;
  /** Set the CSRF cookie to this token (`null`: clear it; `undefined`: leave it). */
  csrfToken?: string | null;
}
