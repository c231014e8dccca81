/**
 * readCookies reads the Cookie header in one pass. Property: it answers exactly what the former
 * two-pass reading did (the `cookie` package's parser for the values, a split on `;` to count the
 * names), whatever the header.
 */
import assert from 'node:assert/strict';
import { parseCookie } from 'cookie';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import {
  type CookieNames,
  cookieNames,
  MAX_COOKIE_HEADER_BYTES,
  type ReadCookies,
  readCookies,
} from '../../src/http/cookies.js';
import { RUNS } from '../fuzz/runs.js';

/** The two-pass reading readCookies replaced, kept here as the reference. */
function twoPassReading(header: string | null | undefined, names: CookieNames): ReadCookies {
  const none = { session: null, csrf: null, sessionSent: false };
  if (!header || header.length > MAX_COOKIE_HEADER_BYTES) return none;
  const parsed = parseCookie(header);
  const counts: Record<string, number> = {};
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    const name = (eq === -1 ? part : part.slice(0, eq)).trim();
    if (name === names.session || name === names.csrf) counts[name] = (counts[name] ?? 0) + 1;
  }
  const pick = (name: string) => {
    const value = parsed[name];
    return value !== undefined && counts[name] === 1 && /^[\x21-\x7e]*$/.test(value) ? value : null;
  };
  return {
    session: pick(names.session),
    csrf: pick(names.csrf),
    sessionSent: (counts[names.session] ?? 0) > 0,
  };
}

const token = 'Zk9vYmFyLWJhei1xdXV4LTAxMjM0NTY3ODlBQkNERUY';

describe('readCookies: one pass, same answers', () => {
  for (const names of [cookieNames('tessera', true), cookieNames('tessera', false)]) {
    const name = fc.oneof(
      fc.constantFrom(names.session, names.csrf, 'other', ''),
      fc
        .tuple(fc.constantFrom(' ', '\t', '\n', '\r', '\u00a0', ''), fc.constantFrom(' ', '\t', ''))
        .map(([before, after]) => `${before}${names.session}${after}`),
      fc.string({ unit: 'binary-ascii', maxLength: 10 }),
    );
    const value = fc.oneof(
      fc.constantFrom(token, `"${token}"`, ` ${token}\t`, '%41%42', '%E0%A4%A', '%', '', '=x'),
      fc.string({ unit: 'binary', maxLength: 20 }),
    );
    const part = fc.oneof(
      fc.tuple(name, value).map(([n, v]) => `${n}=${v}`),
      name,
      fc.string({ unit: 'binary-ascii', maxLength: 8 }),
    );
    const header = fc.oneof(
      fc
        .tuple(fc.array(part, { maxLength: 6 }), fc.constantFrom(';', '; ', ' ;', ';;'))
        .map(([parts, sep]) => parts.join(sep)),
      fc.string({ unit: 'binary', maxLength: 80 }),
    );

    it(`${names.secure ? 'secure' : 'development'} names`, () => {
      fc.assert(
        fc.property(header, (h) => {
          assert.deepEqual(readCookies(h, names), twoPassReading(h, names));
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('examples: a trimmed, percent-decoded value; a name sent twice or bare counts as absent', () => {
    const names = cookieNames('tessera', true);
    assert.equal(readCookies(`__Host-tessera= ${token} ;a=b`, names).session, token);
    assert.equal(readCookies('__Host-tessera=%41%42', names).session, 'AB');
    assert.deepEqual(readCookies(`__Host-tessera; __Host-tessera=${token}`, names), {
      session: null,
      csrf: null,
      sessionSent: true,
    });
  });
});
