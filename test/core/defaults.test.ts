/**
 * Defaults are declared once: `MANAGER_DEFAULTS` and `HTTP_DEFAULTS` are what the options resolve
 * to, and every `@default` tag in the options' documentation says the same value.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'vitest';
import { CONNECTION_DEFAULTS } from '../../src/core/config.js';
import { parseDuration } from '../../src/core/duration.js';
import { MANAGER_DEFAULTS } from '../../src/core/manager-options.js';
import { HTTP_DEFAULTS, HTTP_OPTIONS_WITHOUT_DEFAULT } from '../../src/http/http-options.js';
import { createSessionManager } from '../../src/index.js';

const source = (path: string) =>
  readFileSync(new URL(`../../src/${path}`, import.meta.url), 'utf8');

/** The `@default` text of each member of `interface name` in a source file. */
function documentedDefaults(text: string, name: string): Record<string, string> {
  const start = text.indexOf(`export interface ${name}`);
  assert.notEqual(start, -1, `interface ${name}`);
  const body = text.slice(start, text.indexOf('\n}', start));
  const found: Record<string, string> = {};
  for (const m of body.matchAll(/\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*(?:readonly\s+)?(\w+)\??:/g)) {
    const tag = /@default\s+([^\n]*)/.exec(m[1]!);
    if (tag) found[m[2]!] = tag[1]!.replace(/\s*(\*\/)?\s*$/, '');
  }
  return found;
}

describe('defaults are declared once', () => {
  it("the manager's @default tags match MANAGER_DEFAULTS", () => {
    const documented = documentedDefaults(
      source('core/manager-options.ts'),
      'SessionManagerOptions',
    );
    const { rateLimit, ...scalars } = MANAGER_DEFAULTS;
    for (const [key, value] of Object.entries(scalars))
      assert.equal(documented[key], JSON.stringify(value), key);
    const ipAttempts = rateLimit.maxAttempts * rateLimit.ipAttemptsFactor;
    assert.equal(
      documented.rateLimit,
      `{ maxAttempts: ${rateLimit.maxAttempts}, maxAttemptsPerIp: ${ipAttempts}, window: ${JSON.stringify(rateLimit.window)}, store: memory }`,
    );
    const perOption = documentedDefaults(source('core/manager-options.ts'), 'RateLimitOptions');
    assert.equal(perOption.maxAttempts, String(rateLimit.maxAttempts));
    assert.equal(perOption.maxAttemptsPerIp, `${rateLimit.ipAttemptsFactor} * maxAttempts`);
    assert.equal(perOption.window, JSON.stringify(rateLimit.window));
  });

  it('a manager built without options runs with MANAGER_DEFAULTS', async () => {
    const manager = createSessionManager({ cleanupInterval: false });
    const ms = (d: string) => parseDuration(d);
    assert.deepEqual(manager.settings, {
      idleTimeout: ms(MANAGER_DEFAULTS.idleTimeout),
      absoluteTimeout: ms(MANAGER_DEFAULTS.absoluteTimeout),
      maxIdleTimeout: ms(MANAGER_DEFAULTS.maxIdleTimeout),
      maxAbsoluteTimeout: ms(MANAGER_DEFAULTS.maxAbsoluteTimeout),
      touchAfter: ms(MANAGER_DEFAULTS.touchAfter),
      maxSessionsPerUser: MANAGER_DEFAULTS.maxSessionsPerUser,
      csrf: MANAGER_DEFAULTS.csrf,
      maxDataBytes: MANAGER_DEFAULTS.maxDataBytes,
    });
    const limit = MANAGER_DEFAULTS.rateLimit.maxAttempts;
    for (let i = 0; i < limit - 1; i++)
      await manager.trackLoginAttempt({ username: 'ada', success: false });
    const last = await manager.trackLoginAttempt({ username: 'ada', success: false });
    assert.equal(last.allowed, false, `blocked after ${limit} failures`);
    await manager.close();
  });

  it("the HTTP layer's and the adapters' @default tags match HTTP_DEFAULTS", () => {
    const documented = documentedDefaults(source('http/http-options.ts'), 'SessionHttpOptions');
    const { formLimit, ...http } = HTTP_DEFAULTS;
    for (const [key, value] of Object.entries(http))
      assert.equal(documented[key], JSON.stringify(value), key);
    const express = documentedDefaults(source('adapters/express.ts'), 'ExpressSessionOptions');
    assert.equal(express.formLimit, JSON.stringify(formLimit));
    assert.equal(documented.formLimit, JSON.stringify(formLimit), 'every adapter reads formLimit');
  });

  it('HTTP_DEFAULTS and HTTP_OPTIONS_WITHOUT_DEFAULT list every option of the HTTP layer once', () => {
    const text = source('http/http-options.ts');
    const start = text.indexOf('export interface SessionHttpOptions');
    const body = text.slice(start, text.indexOf('\n}', start));
    const members = [...body.matchAll(/^ {2}(\w+)\??:/gm)].map((m) => m[1]!).sort();
    const listed = [...Object.keys(HTTP_DEFAULTS), ...HTTP_OPTIONS_WITHOUT_DEFAULT].sort();
    assert.deepEqual(listed, members);
  });

  it("the connection configs' @default tags match CONNECTION_DEFAULTS", () => {
    const text = source('core/config.ts');
    const shown = (key: string, value: string | number | boolean) =>
      /timeout/i.test(key) ? `${value} ms` : JSON.stringify(value);
    for (const [name, defaults] of [
      ['RedisConfig', CONNECTION_DEFAULTS.redis],
      ['MemcachedConfig', CONNECTION_DEFAULTS.memcached],
      ['SqlConfig', CONNECTION_DEFAULTS.sql],
    ] as const) {
      const documented = documentedDefaults(text, name);
      for (const [key, value] of Object.entries(defaults))
        assert.equal(documented[key], shown(key, value), `${name}.${key}`);
    }
  });
});
