/**
 * The keys login attempts are counted under, and the one spelling of a client address: an IP
 * address (IPv6 by its /64 prefix, since one client usually holds a whole /64; an IPv4-mapped IPv6
 * address in any form as the IPv4 address it carries) and a username normalised so that `Alice `,
 * `alice` and `ＡＬＩＣＥ` share one counter.
 */
import { isIP } from 'node:net';
import { InvalidInputError } from './errors.js';

/**
 * One spelling per address: trimmed, without brackets or zone, IPv6 as eight lowercase groups
 * without leading zeros, and every IPv4-mapped form (`::ffff:203.0.113.9`, `::ffff:cb00:7109`,
 * `0:0:0:0:0:ffff:…`) as the IPv4 address. Two spellings of one address compare equal; anything
 * that is not an IP address is returned trimmed.
 */
export function canonicalIp(ip: string): string {
  let addr = ip.trim();
  if (addr.startsWith('[') && addr.includes(']')) addr = addr.slice(1, addr.indexOf(']'));
  const zone = addr.indexOf('%');
  if (zone !== -1) addr = addr.slice(0, zone);
  const kind = isIP(addr);
  if (kind === 4) return addr;
  if (kind !== 6) return ip.trim();
  const groups = expandIPv6(addr);
  if (groups.slice(0, 5).every((g) => g === '0') && groups[5] === 'ffff') {
    const [hi, lo] = [Number.parseInt(groups[6]!, 16), Number.parseInt(groups[7]!, 16)];
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return groups.join(':');
}

/** The counter key for a client address. Unparseable input is kept verbatim (after trimming). */
export function ipKey(ip: string): string {
  const addr = canonicalIp(ip);
  if (isIP(addr) !== 6) return addr;
  return `${addr.split(':').slice(0, 4).join(':')}::/64`;
}

/** The eight 16-bit groups of an IPv6 address, lowercase, without leading zeros. */
function expandIPv6(addr: string): string[] {
  let text = addr.toLowerCase();
  // An embedded IPv4 tail (::ffff:1.2.3.4 style) becomes two hex groups.
  const v4 = text.match(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros = tail === undefined ? [] : Array(8 - left.length - right.length).fill('0');
  return [...left, ...zeros, ...right].map((g) => Number.parseInt(g, 16).toString(16));
}

/** Case-folded, trimmed, NFKC-normalised username. */
export function usernameKey(username: string): string {
  // A repeated form field or a JSON body can hand over an array or an object.
  if (typeof username !== 'string') throw new InvalidInputError('username', 'must be a string');
  return username.normalize('NFKC').trim().toLowerCase().normalize('NFKC');
}
