/**
 * Durations in configuration: a number of milliseconds, or a string such as `"30m"`, `"12h"`,
 * `"60s"`, `"1d"`, `"500ms"`, `"1h30m"`.
 */

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};
const DURATION_PATTERN = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w))+$/;
const PART_PATTERN = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g;

/** A duration as milliseconds or a string like `"30m"`. */
export type Duration = number | string;

/**
 * Milliseconds for a duration, or `null` when it is not one. Bare digit strings are milliseconds
 * (what environment variables carry).
 */
export function parseDuration(value: Duration): number | null {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : null;
  // Config read from JSON or YAML may hold anything: not a duration, not an exception.
  if (typeof value !== 'string') return null;
  const text = value.trim().toLowerCase();
  if (/^\d+$/.test(text)) return Number(text);
  if (!DURATION_PATTERN.test(text)) return null;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(PART_PATTERN))
    total += Number(amount) * UNIT_MS[unit!]!;
  return Number.isFinite(total) ? Math.round(total) : null;
}
