/**
 * One client, one address: every spelling of an IPv4-mapped IPv6 address (dotted or hex tail,
 * compressed or not, any case, bracketed, with a zone) counts as the IPv4 address itself, for the
 * login rate limits and for the IP-change policy alike.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import { canonicalIp, ipKey } from '../../src/core/client-keys.js';
import { createSessionManager } from '../../src/index.js';

const MAPPED = [
  '203.0.113.9',
  '::ffff:203.0.113.9',
  '::ffff:cb00:7109',
  '::FFFF:CB00:7109',
  '0:0:0:0:0:ffff:cb00:7109',
  '0000:0000:0000:0000:0000:ffff:cb00:7109',
  '[::ffff:cb00:7109]',
  '::ffff:cb00:7109%eth0',
  ' ::ffff:203.0.113.9 ',
];

describe('IPv4-mapped addresses', () => {
  it('every mapped form keys the rate limit as the IPv4 address, apart from ::1', () => {
    for (const form of MAPPED) assert.equal(ipKey(form), '203.0.113.9', form);
    assert.equal(canonicalIp('::ffff:cb00:7109'), '203.0.113.9');
    assert.notEqual(ipKey('::1'), ipKey('::ffff:cb00:7109'));
    assert.equal(ipKey('::1'), '0:0:0:0::/64');
  });

  it('one counter for the mapped and plain forms of an address; ::1 has its own', async () => {
    const manager = createSessionManager({
      cleanupInterval: false,
      rateLimit: { maxAttempts: 100, maxAttemptsPerIp: 3 },
    });
    await manager.trackLoginAttempt({ ip: '203.0.113.9', username: 'a' });
    await manager.trackLoginAttempt({ ip: '::ffff:cb00:7109', username: 'b' });
    const third = await manager.trackLoginAttempt({ ip: '::ffff:203.0.113.9', username: 'c' });
    assert.equal(third.allowed, false, 'three attempts from one address');
    assert.equal((await manager.checkLoginAttempt({ ip: '::1', username: 'd' })).allowed, true);
    await manager.close();
  });

  it('the IP-change policy sees no change between the mapped and plain forms', async () => {
    const manager = createSessionManager({ cleanupInterval: false, ipChange: 'terminate' });
    const { token } = await manager.create({ userId: 'u', ip: '::ffff:cb00:7109' });
    assert.ok((await manager.validate(token, { ip: '203.0.113.9' })).session);
    assert.ok((await manager.validate(token, { ip: '::ffff:203.0.113.9' })).session);
    assert.ok((await manager.validate(token, { ip: '[::FFFF:CB00:7109]' })).session);
    const moved = await manager.validate(token, { ip: '203.0.113.10' });
    assert.equal(moved.reason, 'ip_changed', 'another address is still a change');
    await manager.close();
  });

  it('IPv6 spellings of one address are one address for the IP-change policy', async () => {
    const manager = createSessionManager({ cleanupInterval: false, ipChange: 'terminate' });
    const { token } = await manager.create({ userId: 'u', ip: '2001:db8::1' });
    assert.ok((await manager.validate(token, { ip: '2001:0DB8:0:0:0:0:0:1' })).session);
    await manager.close();
  });
});
