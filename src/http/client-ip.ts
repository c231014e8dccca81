/**
 * Which address a request comes from. `X-Forwarded-For` is written by whoever sends the request, so
 * it is believed only as far as `trustProxy` says: never by default.
 */
import { isIP } from 'node:net';

/**
 * Whether to believe `X-Forwarded-For`:
 * - `false`: never; the client is the socket's peer.
 * - `true`: every hop; the client is the left-most address (only behind a proxy that overwrites the header).
 * - a number `n`: the `n` closest hops are your proxies.
 * - a list of addresses: hops at these addresses are your proxies (loopback for a local nginx, …).
 * - a function `(address, hopIndex) => boolean`: decides for each hop, the socket peer being hop 0.
 */
export type TrustProxy = boolean | number | string[] | ((address: string, hop: number) => boolean);

function normalise(address: string): string {
  let a = address.trim();
  if (a.startsWith('[') && a.includes(']')) a = a.slice(1, a.indexOf(']'));
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
  if (a.toLowerCase().startsWith('::ffff:') && isIP(a.slice(7)) === 4) a = a.slice(7);
  return a;
}

function trustFunction(trust: TrustProxy): (address: string, hop: number) => boolean {
  if (typeof trust === 'function') return trust;
  if (trust === true) return () => true;
  if (trust === false) return () => false;
  if (typeof trust === 'number') return (_a, hop) => hop < trust;
  const set = new Set(trust.map(normalise));
  return (address) => set.has(address);
}

/**
 * The client's address: walking from the socket peer outwards through `X-Forwarded-For`, the first
 * hop that is not a trusted proxy. Unparseable entries stop the walk at the last good address.
 */
export function clientIp(
  remoteAddress: string | null | undefined,
  forwardedFor: string | null | undefined,
  trust: TrustProxy,
): string | null {
  const peer = remoteAddress ? normalise(remoteAddress) : null;
  if (!peer || trust === false || !forwardedFor) return peer;
  const isTrusted = trustFunction(trust);
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
