/**
 * Where a key lives: the deployment's keys are split into `buckets`, each under its own Cluster
 * hash tag, so a Cluster spreads sessions over all its masters. A session's bucket follows from
 * its id alone (a lookup by token knows its slot); a user's home bucket follows from the user id,
 * and the manager draws ids that fit the user's home bucket (`idFitsUser`), so a user's sessions and
 * user index share one slot and the per-user limit stays one atomic script. The tags are chosen so
 * bucket b's slot lies in the b-th of `buckets` equal slices of the 16,384 slots: a Cluster whose
 * masters own equal slot ranges (what `redis-cli --cluster create` makes) holds equal shares.
 *
 * Ids in keys and index members are shortened: a SHA-256 hex id (Tessera's own) is written as its
 * 32 bytes in base64url (43 characters, not 64), any other id as `~` and the id.
 */

/** CRC16-CCITT (XMODEM), Redis Cluster's key hash: the slot is this mod 16384. */
export function crc16(text: string): number {
  let crc = 0;
  for (const byte of Buffer.from(text, 'utf8')) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

const SLOTS = 16_384;

/**
 * The hash tag of each bucket: `{<prefix>}` for a single bucket (layout of one slot), otherwise
 * `{<prefix><b>.<k>}` with the smallest k that puts the slot in bucket b's slice.
 */
export function bucketTags(prefix: string, buckets: number): string[] {
  if (buckets === 1) return [`{${prefix}}`];
  return Array.from({ length: buckets }, (_, b) => {
    const from = Math.floor((b * SLOTS) / buckets);
    const to = Math.floor(((b + 1) * SLOTS) / buckets);
    for (let k = 0; ; k++) {
      const tag = `${prefix}${b}.${k}`;
      const slot = crc16(tag) % SLOTS;
      if (slot >= from && slot < to) return `{${tag}}`;
    }
  });
}

const HEX_ID = /^[0-9a-f]{64}$/;

/** FNV-1a over the UTF-8 bytes: a stable 32-bit hash. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}

/** The bucket of a session id: its first 32 bits for a hex id, a hash of it otherwise. */
export function bucketOfId(id: string, buckets: number): number {
  if (buckets === 1) return 0;
  return (HEX_ID.test(id) ? Number.parseInt(id.slice(0, 8), 16) : fnv1a(id)) % buckets;
}

/** The home bucket of a user. */
export function bucketOfUser(userId: string, buckets: number): number {
  return buckets === 1 ? 0 : fnv1a(userId) % buckets;
}

/** An id as keys and index members write it. */
export function idMember(id: string): string {
  return HEX_ID.test(id) ? Buffer.from(id, 'hex').toString('base64url') : `~${id}`;
}

/** Reverses `idMember`. */
export function idOfMember(member: string): string {
  return member.startsWith('~')
    ? member.slice(1)
    : Buffer.from(member, 'base64url').toString('hex');
}
