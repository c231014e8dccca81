/**
 * The keys of the options the manager's methods take per call (`create`, `validate`,
 * `regenerate`, `terminateUser`, the login calls), listed once and checked on every call: a
 * misspelt key (`create({ userID })`) is an `UnknownOptionError`, not a field silently dropped.
 */
import type {
  CreateSessionInput,
  LoginAttempt,
  RegenerateOptions,
  RequestInfo,
  ValidateOptions,
} from './manager-api.js';
import { type KnownKeys, rejectUnknownKeys } from './strict-options.js';
import type { SessionData, TerminationReason } from './types.js';

export const CREATE_KNOWN_KEYS = {
  userId: true,
  ip: true,
  userAgent: true,
  data: true,
  idleTimeout: true,
  absoluteTimeout: true,
} as const satisfies KnownKeys<CreateSessionInput<SessionData>>;

export const REQUEST_INFO_KNOWN_KEYS = {
  ip: true,
  userAgent: true,
} as const satisfies KnownKeys<RequestInfo>;

export const REGENERATE_KNOWN_KEYS = {
  userId: true,
  keepData: true,
  ip: true,
  userAgent: true,
  idleTimeout: true,
  absoluteTimeout: true,
} as const satisfies KnownKeys<RegenerateOptions & RequestInfo>;

export const VALIDATE_KNOWN_KEYS = {
  ...REQUEST_INFO_KNOWN_KEYS,
  touch: true,
} as const satisfies KnownKeys<ValidateOptions>;

export const TERMINATE_USER_KNOWN_KEYS = {
  exceptId: true,
  reason: true,
} as const satisfies KnownKeys<{ exceptId?: string; reason?: TerminationReason }>;

export const LOGIN_ATTEMPT_KNOWN_KEYS = {
  ip: true,
  username: true,
  success: true,
} as const satisfies KnownKeys<LoginAttempt>;

const { success: _success, ...ATTEMPT_KEYS } = LOGIN_ATTEMPT_KNOWN_KEYS;

/** Per method: the name in messages and the keys its options may hold. */
const CALLS = {
  create: CREATE_KNOWN_KEYS,
  validate: VALIDATE_KNOWN_KEYS,
  regenerate: REGENERATE_KNOWN_KEYS,
  terminateUser: TERMINATE_USER_KNOWN_KEYS,
  attemptLogin: ATTEMPT_KEYS,
  checkLoginAttempt: ATTEMPT_KEYS,
  trackLoginAttempt: LOGIN_ATTEMPT_KNOWN_KEYS,
} as const;

/** Throws `UnknownOptionError` when the options of `manager.<method>()` hold an unknown key. */
export function checkCallOptions(method: keyof typeof CALLS, options: unknown): void {
  rejectUnknownKeys(`manager.${method}()`, options, CALLS[method]);
}

/** The keys of the request session's `regenerate`, `login` and `destroyAll` options (adapters). */
const SESSION_CALLS = {
  regenerate: {
    userId: true,
    keepData: true,
    idleTimeout: true,
    absoluteTimeout: true,
  } as const satisfies KnownKeys<RegenerateOptions>,
  login: {
    keepData: true,
    idleTimeout: true,
    absoluteTimeout: true,
  } as const satisfies KnownKeys<
    Pick<RegenerateOptions, 'keepData' | 'idleTimeout' | 'absoluteTimeout'>
  >,
  destroyAll: { exceptCurrent: true } as const satisfies KnownKeys<{ exceptCurrent?: boolean }>,
} as const;

/** Throws `UnknownOptionError` when the options of `session.<method>()` hold an unknown key. */
export function checkSessionCallOptions(
  method: keyof typeof SESSION_CALLS,
  options: unknown,
): void {
  rejectUnknownKeys(`session.${method}()`, options, SESSION_CALLS[method]);
}
