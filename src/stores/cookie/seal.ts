/**
 * Sealing for the cookie store: AES-256-GCM (node:crypto) under keys derived with HKDF from the
 * configured secrets, in a versioned text format that names the key it was sealed with:
 *
 *   t1.<key id>.<base64url(iv[12] | ciphertext | tag[16])>
 *
 * The format version, the key id and the cookie name are bound as additional authenticated data,
 * so a token moved to another cookie name or relabelled with another key id fails authentication.
 * Unsealing never throws: it returns the plaintext or the reason it was refused.
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import { ConfigError } from '../../core/errors.js';
import { type KnownKeys, rejectUnknownKeys } from '../../core/strict-options.js';

export const SEAL_VERSION = 't1';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_ID = /^[A-Za-z0-9_-]{1,16}$/;
/** Secrets shorter than this are refused: a sealing key needs 256 bits of input. */
export const MIN_SECRET_BYTES = 32;

/** A secret with an explicit key id (to name keys yourself when rotating). */
export interface CookieSecret {
  /** 1-16 characters of [A-Za-z0-9_-]. @default derived from the secret (8 characters) */
  id?: string;
  /** At least 32 bytes (a string counts its UTF-8 bytes). */
  secret: string | Uint8Array;
}

/** The keys of a `CookieSecret`. */
const SECRET_KNOWN_KEYS = { id: true, secret: true } as const satisfies KnownKeys<CookieSecret>;

export interface SealingKey {
  id: string;
  key: Buffer;
}

/** Derives the sealing keys; the first one seals, all of them unseal. Throws `ConfigError`. */
export function sealingKeys(
  secrets: readonly (string | Uint8Array | CookieSecret)[],
): SealingKey[] {
  if (!Array.isArray(secrets) || secrets.length === 0)
    throw new ConfigError('cookie.secrets', 'needs at least one secret of 32 bytes or more');
  const keys = secrets.map((entry, i): SealingKey => {
    const field = `cookie.secrets.${i}`;
    const given =
      typeof entry === 'string' || entry instanceof Uint8Array ? { secret: entry } : entry;
    if (given === entry) rejectUnknownKeys('createCookieStore()', entry, SECRET_KNOWN_KEYS, field);
    const bytes =
      typeof given?.secret === 'string'
        ? Buffer.from(given.secret, 'utf8')
        : given?.secret instanceof Uint8Array
          ? Buffer.from(given.secret)
          : null;
    if (!bytes) throw new ConfigError(field, 'must be a string or bytes');
    if (bytes.length < MIN_SECRET_BYTES)
      throw new ConfigError(
        field,
        `is ${bytes.length} bytes; a secret must be at least ${MIN_SECRET_BYTES} bytes (e.g. \`openssl rand -base64 32\`)`,
      );
    const key = Buffer.from(hkdfSync('sha256', bytes, 'tessera-cookie', 'aes-256-gcm t1', 32));
    const id =
      given.id ??
      createHash('sha256').update('tessera-key-id').update(key).digest('base64url').slice(0, 8);
    if (typeof id !== 'string' || !KEY_ID.test(id))
      throw new ConfigError(`${field}.id`, 'must be 1-16 of A-Z a-z 0-9 _ -');
    return { id, key };
  });
  const ids = new Set(keys.map((k) => k.id));
  if (ids.size !== keys.length)
    throw new ConfigError('cookie.secrets', 'two secrets have the same key id');
  return keys;
}

function aad(keyId: string, cookieName: string): Buffer {
  return Buffer.from(`tessera-cookie:${SEAL_VERSION}:${keyId}:${cookieName}`, 'utf8');
}

/** Seals `plaintext` with `key` for the cookie called `cookieName`. */
export function seal(plaintext: string, key: SealingKey, cookieName: string): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv);
  cipher.setAAD(aad(key.id, cookieName));
  const body = Buffer.concat([
    cipher.update(plaintext, 'utf8'),
    cipher.final(),
    cipher.getAuthTag(),
  ]);
  return `${SEAL_VERSION}.${key.id}.${Buffer.concat([iv, body]).toString('base64url')}`;
}

/** Why a sealed value was refused. */
export type UnsealFailure = 'malformed' | 'unknown_version' | 'unknown_key' | 'tampered';

export function unseal(
  token: string,
  keys: readonly SealingKey[],
  cookieName: string,
): { ok: true; plaintext: string; keyId: string } | { ok: false; reason: UnsealFailure } {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'malformed' };
  const [version, keyId, payload] = parts as [string, string, string];
  if (version !== SEAL_VERSION) return { ok: false, reason: 'unknown_version' };
  const key = keys.find((k) => k.id === keyId);
  if (!key) return { ok: false, reason: 'unknown_key' };
  if (!/^[A-Za-z0-9_-]*$/.test(payload)) return { ok: false, reason: 'malformed' };
  const raw = Buffer.from(payload, 'base64url');
  // Only the canonical encoding is accepted, so no two cookie strings unseal to the same session.
  if (raw.length < IV_BYTES + TAG_BYTES || raw.toString('base64url') !== payload)
    return { ok: false, reason: 'malformed' };
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(aad(key.id, cookieName));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    const plain = Buffer.concat([
      decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)),
      decipher.final(),
    ]);
    return { ok: true, plaintext: plain.toString('utf8'), keyId };
  } catch {
    return { ok: false, reason: 'tampered' };
  }
}
