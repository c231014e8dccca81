/**
 * The Redis layout's pure parts, without a server: a record's value round-trips whatever its
 * strings hold, bucket tags fall in their own slice of the Cluster's slots, ids shorten reversibly,
 * and a user's sessions drawn with `idFitsUser` share the user's bucket.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'vitest';
import {
  bucketOfId,
  bucketOfUser,
  bucketTags,
  crc16,
  idMember,
  idOfMember,
} from '../../src/stores/redis/buckets.js';
import { decodeRecord, encodeRecord, GS, RS, US } from '../../src/stores/redis/record-value.js';
import { randomSessionId, sampleRecord } from '../../src/testing/index.js';

describe('redis layout 2', () => {
  it('a value round-trips strings holding separators, quotes, control characters or nothing', () => {
    const awkward = ['', '"quoted', `a${US}b${RS}c${GS}d`, 'line\nbreak', '\u0000', 'ok', '""'];
    for (const s of awkward) {
      const record = sampleRecord({
        userId: s,
        ip: s,
        userAgent: s,
        csrf: s,
        device: { browser: s, browserVersion: null, os: s, osVersion: null, type: 'bot' },
        data: { [s]: s, [`k${US}`]: [s, { [GS]: RS }], n: 1e21, z: -0.5, e: [] },
      });
      const value = encodeRecord(record);
      const back = decodeRecord(record.id, value);
      assert.deepEqual(back, { ...record, data: JSON.parse(JSON.stringify(record.data)) });
      // The data part's length + 2 is the data's size as JSON (what maxDataBytes limits).
      const data = value.slice(value.indexOf(RS) + 1);
      assert.equal(Buffer.byteLength(data) + 2, Buffer.byteLength(JSON.stringify(record.data)));
    }
    const anonymous = sampleRecord({ userId: null, ip: null, absoluteExpiresAt: null, data: {} });
    assert.deepEqual(decodeRecord(anonymous.id, encodeRecord(anonymous)), anonymous);
  });

  it('a value that is not layout 2 decodes to null', () => {
    const id = randomSessionId();
    const good = encodeRecord(sampleRecord({ id }));
    for (const bad of ['', 'not json {', good.replace(RS, US), `${good}${US}"x"`, `${good}${GS}`])
      assert.equal(decodeRecord(id, bad), null, JSON.stringify(bad));
  });

  it('each bucket tag hashes into its own equal slice of the 16,384 slots', () => {
    assert.equal(crc16('123456789'), 0x31c3, 'CRC16-CCITT (XMODEM), as Redis Cluster');
    assert.deepEqual(bucketTags('tessera:', 1), ['{tessera:}']);
    for (const n of [2, 3, 16, 100]) {
      const tags = bucketTags('tessera:', n);
      assert.equal(new Set(tags).size, n);
      tags.forEach((tag, b) => {
        const slot = crc16(tag.slice(1, -1)) % 16384;
        assert.ok(slot >= Math.floor((b * 16384) / n) && slot < Math.floor(((b + 1) * 16384) / n));
      });
    }
  });

  it('ids shorten reversibly; a fitting id shares its user bucket', () => {
    const hex = randomSessionId();
    assert.equal(idMember(hex).length, 43);
    assert.equal(idOfMember(idMember(hex)), hex);
    for (const other of ['express-sid', '~x', hex.toUpperCase()])
      assert.equal(idOfMember(idMember(other)), other);
    const counts = new Array(16).fill(0);
    for (let i = 0; i < 16_000; i++) counts[bucketOfId(randomSessionId(), 16)]++;
    assert.ok(
      counts.every((c) => c > 800 && c < 1200),
      `ids per bucket: ${counts.join(' ')}`,
    );
    assert.equal(bucketOfUser('alice', 16), bucketOfUser('alice', 16));
    assert.equal(bucketOfId(hex, 1), 0);
  });
});
