/**
 * The encrypted cookie store under tampering: bit flips, truncation, chunk reordering, dropped or
 * duplicated chunks, chunks spliced from another session, relabelled key ids and cookie names. The
 * only outcomes are the exact sealed record or no session; unsealing never throws.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { createCookieStore } from '../../src/stores/cookie/index.js';
import { sampleRecord } from '../../src/testing/index.js';
import { sessionData, viaJson } from './arbitraries.js';
import { RUNS } from './runs.js';

const secretA = randomBytes(32).toString('base64');
const secretB = randomBytes(32).toString('base64');
/** Small chunks, so most sealed sessions span several cookies. */
const store = createCookieStore({
  secrets: [
    { id: 'a', secret: secretA },
    { id: 'b', secret: secretB },
  ],
  chunkSize: 100,
  maxChunks: 40,
});
const rotatedAway = createCookieStore({
  secrets: [{ id: 'b', secret: secretB }],
  chunkSize: 100,
  maxChunks: 40,
});
const NOW = Date.now();

type Jar = Record<string, string>;

async function sealed(data: Record<string, unknown>): Promise<{ jar: Jar; record: object }> {
  const record = sampleRecord({ data: data as never }, NOW);
  const out = await store.seal(record, NOW);
  return { jar: Object.fromEntries(out.set.map((c) => [c.name, c.value])), record };
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** One way to damage a jar, given its chunk names in order. */
const damage = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), chunk: fc.nat(), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({
    kind: fc.constant('replace' as const),
    chunk: fc.nat(),
    at: fc.nat(),
    ch: fc.constantFrom(...B64URL, '.', '~', '=', ' ', '%', '\u00e9'),
  }),
  fc.record({ kind: fc.constant('truncate' as const), chunk: fc.nat(), keep: fc.nat() }),
  fc.record({ kind: fc.constant('drop' as const), chunk: fc.nat() }),
  fc.record({ kind: fc.constant('shuffle' as const), seed: fc.nat() }),
  fc.record({ kind: fc.constant('duplicate' as const), chunk: fc.nat(), into: fc.nat() }),
  fc.record({ kind: fc.constant('splice' as const), chunk: fc.nat() }),
  fc.record({ kind: fc.constant('relabel' as const) }),
  fc.record({ kind: fc.constant('count' as const), n: fc.integer({ min: 0, max: 99 }) }),
  fc.record({
    kind: fc.constant('append' as const),
    chunk: fc.nat(),
    text: fc.string({ maxLength: 3 }),
  }),
);

type Damage = typeof damage extends fc.Arbitrary<infer D> ? D : never;

function applyOne(jar: Jar, other: Jar, d: Damage): Jar {
  const names = Object.keys(jar);
  const out = { ...jar };
  const pick = (n: number) => names[n % names.length]!;
  switch (d.kind) {
    case 'flip': {
      const name = pick(d.chunk);
      const v = out[name]!;
      const at = d.at % v.length;
      out[name] =
        v.slice(0, at) + String.fromCharCode(v.charCodeAt(at) ^ (1 << d.bit)) + v.slice(at + 1);
      break;
    }
    case 'replace': {
      const name = pick(d.chunk);
      const v = out[name]!;
      const at = d.at % v.length;
      out[name] = v.slice(0, at) + d.ch + v.slice(at + 1);
      break;
    }
    case 'truncate': {
      const name = pick(d.chunk);
      out[name] = out[name]!.slice(0, d.keep % out[name]!.length);
      break;
    }
    case 'drop':
      delete out[pick(d.chunk)];
      break;
    case 'shuffle': {
      const values = names.map((n) => jar[n]!);
      const rotated = values.map(
        (_, i) => values[(i + 1 + (d.seed % values.length)) % values.length]!,
      );
      names.forEach((n, i) => {
        out[n] = rotated[i]!;
      });
      break;
    }
    case 'duplicate':
      out[pick(d.into)] = jar[pick(d.chunk)]!;
      break;
    case 'splice': {
      const otherNames = Object.keys(other);
      const name = otherNames[d.chunk % otherNames.length]!;
      out[name] = other[name]!;
      break;
    }
    case 'relabel':
      if (out.tessera === undefined) break;
      out.tessera = out.tessera.replace(/^(\d+~t1\.)a\./, '$1b.');
      break;
    case 'count':
      if (out.tessera === undefined) break;
      out.tessera = out.tessera.replace(/^\d+~/, `${d.n}~`);
      break;
    case 'append': {
      const name = pick(d.chunk);
      out[name] = out[name]! + d.text;
      break;
    }
  }
  return out;
}

const same = (a: Jar, b: Jar) =>
  Object.keys(a).length === Object.keys(b).length && Object.keys(a).every((k) => a[k] === b[k]);

describe('fuzz: encrypted cookies', () => {
  it('sealed data round-trips exactly', async () => {
    await fc.assert(
      fc.asyncProperty(sessionData, async (data) => {
        const { jar, record } = await sealed(data);
        const found = await store.unseal(jar, NOW);
        assert.ok(found.record);
        assert.deepStrictEqual(viaJson(found.record), viaJson(record));
        assert.deepStrictEqual(Object.keys(found.record.data), Object.keys(viaJson(data)));
      }),
      { numRuns: Math.round(RUNS / 2) },
    );
  });

  it('a damaged jar is the exact session or no session, and never an exception', async () => {
    const bulky = fc
      .tuple(sessionData, fc.string({ minLength: 100, maxLength: 900 }))
      .map(([data, pad]) => ({ ...data, pad }));
    await fc.assert(
      fc.asyncProperty(
        bulky,
        bulky,
        fc.array(damage, { minLength: 1, maxLength: 3 }),
        async (a, b, steps) => {
          const { jar, record } = await sealed(a);
          const { jar: other } = await sealed(b);
          let damaged = jar;
          for (const step of steps) damaged = applyOne(damaged, other, step);
          const found = await store.unseal(damaged, NOW);
          if (same(damaged, jar)) assert.deepStrictEqual(viaJson(found.record), viaJson(record));
          else if (found.record) {
            // Only a change the format ignores (a chunk past the count) may still open, and then
            // it must be this exact session.
            assert.deepStrictEqual(viaJson(found.record), viaJson(record));
          }
          const other2 = await rotatedAway.unseal(damaged, NOW);
          assert.equal(other2.record, null, 'a key that was rotated away opens nothing');
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('arbitrary cookie jars never throw and never open', async () => {
    const jar = fc.dictionary(
      fc.constantFrom('tessera', 'tessera.1', 'tessera.2', 'tessera.3', 'other'),
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.string({ maxLength: 60 }).map((s) => `2~t1.a.${s}`),
        fc
          .uint8Array({ minLength: 28, maxLength: 120 })
          .map((u) => `1~t1.a.${Buffer.from(u).toString('base64url')}`),
      ),
    );
    await fc.assert(
      fc.asyncProperty(jar, async (cookies) => {
        const found = await store.unseal(cookies, NOW);
        assert.equal(found.record, null);
      }),
      { numRuns: RUNS },
    );
  });
});
