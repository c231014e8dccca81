/**
 * How a session record is laid out in its Redis hash: short field names for the attributes and
 * one `d:<key>` field per top-level data key holding that value's JSON. A delta write is then a
 * plain HSET/HDEL of the keys named, done inside a script without parsing anything. Absent
 * optional fields mean `null`.
 */

import { isSessionRecord } from '../../core/record.js';
import type { JsonValue, SessionData, SessionRecord } from '../../core/types.js';

export const DATA_FIELD_PREFIX = 'd:';

/** Field/value pairs for HSET. */
export function recordFields(record: SessionRecord): string[] {
  const f: string[] = [
    'c',
    String(record.createdAt),
    'l',
    String(record.lastSeenAt),
    'i',
    String(record.idleExpiresAt),
    'x',
    record.csrf,
    'v',
    String(record.version),
    'dt',
    record.device.type,
  ];
  const optional: [string, string | number | null][] = [
    ['u', record.userId],
    ['a', record.absoluteExpiresAt],
    ['ip', record.ip],
    ['ua', record.userAgent],
    ['db', record.device.browser],
    ['dbv', record.device.browserVersion],
    ['do', record.device.os],
    ['dov', record.device.osVersion],
  ];
  for (const [field, value] of optional) if (value !== null) f.push(field, String(value));
  for (const [key, value] of Object.entries(record.data)) {
    const json = dataValue(value);
    if (json !== undefined) f.push(DATA_FIELD_PREFIX + key, json);
  }
  return f;
}

/** The JSON of one data value; `undefined` for a value JSON drops (as JSON.stringify on the object would). */
export function dataValue(value: JsonValue | undefined): string | undefined {
  return value === undefined ? undefined : JSON.stringify(value);
}

/** Rebuilds a record from HGETALL's flat reply; `null` when a field is missing or not valid JSON. */
export function recordFromFields(id: string, flat: unknown): SessionRecord | null {
  if (!Array.isArray(flat)) return null;
  const h = new Map<string, string>();
  const data: SessionData = {};
  for (let j = 0; j + 1 < flat.length; j += 2) {
    const field = String(flat[j]);
    const value = String(flat[j + 1]);
    if (field.startsWith(DATA_FIELD_PREFIX)) {
      try {
        // defineProperty keeps a key named "__proto__" as data, not as the prototype.
        Object.defineProperty(data, field.slice(DATA_FIELD_PREFIX.length), {
          value: JSON.parse(value) as JsonValue,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      } catch {
        return null;
      }
    } else h.set(field, value);
  }
  const num = (field: string) => (h.has(field) ? Number(h.get(field)) : Number.NaN);
  const str = (field: string) => h.get(field) ?? null;
  const record = {
    id,
    userId: str('u'),
    data,
    createdAt: num('c'),
    lastSeenAt: num('l'),
    idleExpiresAt: num('i'),
    absoluteExpiresAt: h.has('a') ? num('a') : null,
    ip: str('ip'),
    userAgent: str('ua'),
    device: {
      browser: str('db'),
      browserVersion: str('dbv'),
      os: str('do'),
      osVersion: str('dov'),
      type: str('dt'),
    },
    csrf: h.get('x'),
    version: num('v'),
  };
  return isSessionRecord(record) ? record : null;
}
