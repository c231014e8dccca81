/**
 * Which address a request comes from. `X-Forwarded-For` is written by whoever sends the request, so
 * it is believed only as far as `trustProxy` says: never by default.
 */
import { isIP } from 'node:net';
import { ConfigError } from '../core/errors.js';

/**
 * Whether to believe `X-Forwarded-For`:
 * - `false`: never; the client is the socket's peer.
 * - `true`: every hop; the client is the left-most address (only behind a proxy that overwrites the header).
 * - a number `n`: the `n` closest hops are your proxies.
 * - a list of addresses (or one string, comma-separated): hops at these addresses are your proxies;
 *   `"loopback"` stands for 127.0.0.0/8 and ::1 (a local nginx).
 * - a function `(address, hopIndex) => boolean`: decides for each hop, the socket peer being hop 0.
 */
export type TrustProxy =
  | boolean
  | number
  | string
  | string[]
  | ((address: string, hop: number) => boolean);

function normalise(address: string): string {
  let a = address.trim();
  if (a.startsWith('[') && a.includes(']')) a = a.slice(1, a.indexOf(']'));
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
  if (a.toLowerCase().startsWith('::ffff:') && isIP(a.slice(7)) === 4) a = a.slice(7);
  return a;
}

const isLoopback = (address: string) => address === '::1' || /^127\.\d+\.\d+\.\d+$/.test(address);

/**
 * Checks a `TrustProxy` value and turns it into a per-hop predicate. A value that is none of the
 * accepted kinds throws a `ConfigError` naming `trustProxy`.
 */
export function trustFunction(trust: unknown): (address: string, hop: number) => boolean {
  if (typeof trust === 'function') return trust as (address: string, hop: number) => boolean;
  if (trust === true) return () => true;
  if (trust === false) return () => false;
  if (typeof trust === 'number') {
    if (!Number.isInteger(trust) || trust < 0)
      throw new ConfigError(
        'trustProxy',
        'as a number must be a whole number of proxy hops (0 or more)',
      );
    return (_a, hop) => hop < trust;
  }
  const list = typeof trust === 'string' ? trust.split(',') : trust;
  if (!Array.isArray(list) || list.some((a) => typeof a !== 'string'))
    throw new ConfigError(
      'trustProxy',
      'must be true, false, a number of hops, proxy addresses (a list or a comma-separated string) or a function',
    );
  const names = list.map((a: string) => normalise(a)).filter((a) => a !== '');
  const loopback = names.includes('loopback');
  const bad = names.find((a) => a !== 'loopback' && isIP(a) === 0);
  if (bad !== undefined)
    throw new ConfigError(
      'trustProxy',
      `${JSON.stringify(bad)} is not an IP address or "loopback"`,
    );
  const set = new Set(names);
  return (address) => set.has(address) || (loopback && isLoopback(address));
}

/**
 * The client's address: walking from the socket peer outwards through `X-Forwarded-For`, the first
 * hop that is not a trusted proxy. Unparseable entries stop the walk at the last good address.
 */
export function clientIp(
  remoteAddress: string | null | undefined,
  forwardedFor: string | null | undefined,
  trust: TrustProxy | ((address: string, hop: number) => boolean),
): string | null {
  const peer = remoteAddress ? normalise(remoteAddress) : null;
  if (!peer || trust === false || !forwardedFor) return peer;
  const isTrusted = typeof trust === 'function' ? trust : trustFunction(trust);
  const chain = forwardedFor
    .split(',')
    .map(normalise)
    .filter((a) => a !== '')
    .reverse();
  let current = peer;
  let hop = 0;
  for (const next of chain) {
    if (!isTrusted(current, hop)) return current;
    if (isIP(next) === 0) return current;
    current = next;
    hop++;
  }
  return current;
}
