/**
 * `tessera-session/http`: framework-neutral request handling over header strings and Web Request/Response,
 * the base of the Express, Fastify and Hono adapters.
 */
export { clientIp, type TrustProxy } from './client-ip.js';
export {
  cookieNames,
  isLocalHost,
  MAX_COOKIE_HEADER_BYTES,
  readBearer,
  readCookies,
} from './cookies.js';
export {
  createSessionHttp,
  fromFetchRequest,
  type HttpRequestLike,
  handleFetch,
  type SessionHttp,
  type SessionHttpOptions,
} from './handler.js';
export {
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
