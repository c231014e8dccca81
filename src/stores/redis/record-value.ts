/**
 * How a session record is laid out in Redis (layout 2): one string value per session, so a read is
 * one plain `GET` and a write rewrites the value with one `SET` inside a script. The value is
 *
 *   c US l US i US a US v US u US ip US ua US db US dbv US do US dov US dt US csrf RS data
 *
 * with US = \x1f and RS = \x1e. Times and the version are base-36 integers; `a` is empty when the
 * absolute timeout is off. Strings are written as they are, or as JSON when they are empty, start
 * with `"` or hold a control character (so no separator is ever inside a field); an empty field
 * is `null`. `dt` is one letter (see DEVICE_CODES). `data` is the session data's JSON members
 * joined by US, each `"key"` GS `value` (GS = \x1d): JSON.stringify never writes a raw control
 * character, so a script finds a member by splitting on the separators, sets or removes it without
 * parsing JSON, and the data's size as JSON is the data part's length + 2 (US and GS stand where
 * JSON has `,` and `:`). The scripts in ./lua-prelude.ts read and write the same layout.
 */
import { InvalidInputError } from '../../core/errors.js';
import { isSessionRecord } from '../../core/record.js';
import type { DeviceType, JsonValue, SessionData, SessionRecord } from '../../core/types.js';

/** The layout version stored in Redis (`<tag>v`); a store refuses another one. */
export const LAYOUT_VERSION = 2;

export const US = '\x1f';
export const RS = '\x1e';
export const GS = '\x1d';

/** The one-letter device type codes the value and the counters use. */
export const DEVICE_CODES: Record<DeviceType, string> = {
  desktop: 'd',
  mobile: 'm',
  tablet: 't',
  bot: 'b',
  unknown: 'u',
};
const DEVICE_TYPES = new Map(Object.entries(DEVICE_CODES).map(([type, code]) => [code, type]));

/** A string field: as it is, or as JSON when it could be mistaken (empty, `"…`, control characters). */
export function encodeString(value: string | null): string {
  if (value === null) return '';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is escaped
  return value === '' || value.startsWith('"') || /[\x00-\x1f]/.test(value)
    ? JSON.stringify(value)
    : value;
}

/** Reverses `encodeString`; `undefined` for a field that does not decode. */
export function decodeString(field: string): string | null | undefined {
  if (field === '') return null;
  if (!field.startsWith('"')) return field;
  try {
    const value: unknown = JSON.parse(field);
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A time or version as base 36. Only non-negative safe integers fit the layout. */
export function encodeInteger(value: number, what: string): string {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new InvalidInputError(
      what,
      `must be a non-negative integer (epoch ms) to be stored in Redis, got ${value}`,
    );
  return value.toString(36);
}

function decodeInteger(field: string): number {
  return /^[0-9a-z]{1,11}$/.test(field) ? Number.parseInt(field, 36) : Number.NaN;
}

/** One data member as the value holds it: `"key"` GS `value`; `undefined` when JSON drops it. */
export function dataMember(key: string, value: JsonValue | undefined): string | undefined {
  return value === undefined ? undefined : JSON.stringify(key) + GS + JSON.stringify(value);
}

/** The data part of a value. */
export function encodeData(data: SessionData): string {
  const members: string[] = [];
  for (const [key, value] of Object.entries(data)) {
    const member = dataMember(key, value);
    if (member !== undefined) members.push(member);
  }
  return members.join(US);
}

/** The whole value of a record. */
export function encodeRecord(record: SessionRecord): string {
  const d = record.device;
  return [
    encodeInteger(record.createdAt, 'createdAt'),
    encodeInteger(record.lastSeenAt, 'lastSeenAt'),
    encodeInteger(record.idleExpiresAt, 'idleExpiresAt'),
    record.absoluteExpiresAt === null
      ? ''
      : encodeInteger(record.absoluteExpiresAt, 'absoluteExpiresAt'),
    encodeInteger(record.version, 'version'),
    encodeString(record.userId),
    encodeString(record.ip),
    encodeString(record.userAgent),
    encodeString(d.browser),
    encodeString(d.browserVersion),
    encodeString(d.os),
    encodeString(d.osVersion),
    DEVICE_CODES[d.type],
    encodeString(record.csrf),
  ]
    .join(US)
    .concat(RS, encodeData(record.data));
}

const HEADER_FIELDS = 14;

/** Rebuilds a record from its value; `null` when the value is not a well-formed layout-2 record. */
export function decodeRecord(id: string, value: unknown): SessionRecord | null {
  if (typeof value !== 'string') return null;
  const cut = value.indexOf(RS);
  if (cut < 0) return null;
  const h = value.slice(0, cut).split(US);
  if (h.length !== HEADER_FIELDS) return null;
  const body = value.slice(cut + 1);
  let data: unknown;
  try {
    // US and GS stand where JSON has `,` and `:`, and never occur inside a JSON text.
    data = JSON.parse(`{${body.replaceAll(GS, ':').replaceAll(US, ',')}}`);
  } catch {
    return null;
  }
  const csrf = decodeString(h[13]!);
  const record = {
    id,
    userId: decodeString(h[5]!),
    data,
    createdAt: decodeInteger(h[0]!),
    lastSeenAt: decodeInteger(h[1]!),
    idleExpiresAt: decodeInteger(h[2]!),
    absoluteExpiresAt: h[3] === '' ? null : decodeInteger(h[3]!),
    ip: decodeString(h[6]!),
    userAgent: decodeString(h[7]!),
    device: {
      browser: decodeString(h[8]!),
      browserVersion: decodeString(h[9]!),
      os: decodeString(h[10]!),
      osVersion: decodeString(h[11]!),
      type: DEVICE_TYPES.get(h[12]!),
    },
    csrf: csrf === null ? '' : csrf,
    version: decodeInteger(h[4]!),
  };
  return isSessionRecord(record) ? record : null;
}

/** The creation time at the head of a value (the value, or its first field); `null` if malformed. */
export function createdAtOf(head: string): number | null {
  const cut = head.indexOf(US);
  const t = decodeInteger(cut < 0 ? head : head.slice(0, cut));
  return Number.isNaN(t) ? null : t;
}

/** A counter field name (`b:<browser>`, `o:<os>`, `t:<type code>`) as the stats report it. */
export function counterName(field: string): { group: 'b' | 'o' | 't'; name: string } | null {
  const group = field.slice(0, 2);
  const rest = field.slice(2);
  if (group === 't:') {
    const type = DEVICE_TYPES.get(rest);
    return type ? { group: 't', name: type } : null;
  }
  if (group !== 'b:' && group !== 'o:') return null;
  const name = rest === '' ? 'unknown' : decodeString(rest);
  return typeof name === 'string' ? { group: group[0] as 'b' | 'o', name } : null;
}
