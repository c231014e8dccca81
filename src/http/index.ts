/**
 * `tessera-session/http`: framework-neutral request handling over header strings and Web Request/Response,
 * the base of the Express, Fastify and Hono adapters.
 */

export { fromFetchRequest, handleFetch } from '../adapters/fetch.js';
export type { AppSessionData, SessionTypes } from './app-data.js';
export { clientIp, type TrustProxy } from './client-ip.js';
export {
  cookieNames,
  isLocalHost,
  MAX_COOKIE_HEADER_BYTES,
  readBearer,
  readCookies,
} from './cookies.js';
export {
  type ExcludeOption,
  type ExcludeRequest,
  type ExcludeRule,
  isPlainPath,
} from './exclude.js';
export { createSessionHttp, type HttpRequestLike, type SessionHttp } from './handler.js';
export { HTTP_DEFAULTS, type SessionHttpOptions } from './http-options.js';
export {
  answerFor,
  type ErrorAnswer,
  errorAnswer,
  escapeHtml,
  type HttpErrorKind,
  isStoreFailure,
  type Refusal,
  retryAfterSeconds,
  wantsHtml,
} from './responses.js';
export {
  FLASH_KEY,
  type LoginResult,
  RequestSession,
  type SessionMiss,
  type TokenSource,
} from './session.js';
export {
  refuseUpgrade,
  type UpgradeRequestLike,
  type UpgradeResult,
  upgradeSession,
} from './upgrade.js';
