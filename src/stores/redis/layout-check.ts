/**
 * The layout version key `{<prefix>}v`: written by the first store that connects (`2:<buckets>`),
 * compared by every other, so a store of another layout or another bucket count refuses to run
 * instead of reading keys it would misplace. A later layout reads it to know what to migrate.
 */
import { ConfigError, StoreError } from '../../core/errors.js';
import { REDIS_STORE_NAME, type ScriptClient } from './client.js';
import { LAYOUT_VERSION } from './record-value.js';

/** Returns the check to await before a store's first call on a client (it runs once). */
export function layoutCheck(
  prefix: string,
  buckets: number,
): (client: ScriptClient) => Promise<void> {
  const key = `{${prefix}}v`;
  const expected = `${LAYOUT_VERSION}:${buckets}`;
  let checked: Promise<void> | undefined;
  const mismatch = new WeakSet<object>();
  const check = async (client: ScriptClient) => {
    const set = await client.command(['SET', key, expected, 'NX'], key);
    if (set !== null && set !== undefined) return;
    const stored = String(await client.command(['GET', key], key));
    if (stored === expected) return;
    const [version, count] = stored.split(':');
    const refuse = (err: Error) => {
      mismatch.add(err);
      return err;
    };
    if (version !== String(LAYOUT_VERSION))
      throw refuse(
        new StoreError(
          REDIS_STORE_NAME,
          `the sessions under prefix "${prefix}" are stored in layout ${JSON.stringify(version)}, this version of tessera-session uses layout ${LAYOUT_VERSION}: use another prefix, or the tessera-session version that wrote them`,
        ),
      );
    throw refuse(
      new ConfigError(
        'redis.buckets',
        `is ${buckets}, but the sessions under prefix "${prefix}" are stored in ${count} buckets: give every store of this deployment buckets: ${count}`,
      ),
    );
  };
  return (client) => {
    checked ??= check(client).catch((err: unknown) => {
      // A failed call (Redis down, a deadline) is checked again by the next call; a mismatch is final.
      if (!mismatch.has(err as object)) checked = undefined;
      throw err;
    });
    return checked;
  };
}
