/** A session as device lists and admin tables show it: without its data or CSRF token. */
import type { SessionSummary } from './manager-api.js';
import { expiresAt } from './record.js';
import type { SessionRecord } from './types.js';

/** Summary without data or CSRF token, for device lists and admin tables. */
export function summarize(record: SessionRecord): SessionSummary {
  const { data: _data, csrf: _csrf, version: _version, ...rest } = record;
  return { ...rest, expiresAt: expiresAt(record) };
}
