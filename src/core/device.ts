/**
 * Device information from a User-Agent header, for the "your devices" page and stats. Uses
 * ua-parser-js 1.x (MIT; 2.x is AGPL and must not be used).
 */
import { UAParser } from 'ua-parser-js';
import type { DeviceInfo, DeviceType } from './types.js';

const BOT_PATTERN = /bot|crawl|spider|slurp|curl|wget|python-requests|httpclient|headless/i;
/** Longer headers are cut before parsing: no real browser sends more, and parsing stays cheap. */
const MAX_UA_LENGTH = 512;

export const UNKNOWN_DEVICE: DeviceInfo = Object.freeze({
  browser: null,
  browserVersion: null,
  os: null,
  osVersion: null,
  type: 'unknown',
});

const cache = new Map<string, DeviceInfo>();
const CACHE_SIZE = 500;

/** Parses a User-Agent header; never throws. Results are cached, since a site sees few distinct agents. */
export function parseDevice(userAgent: string | null | undefined): DeviceInfo {
  if (!userAgent) return UNKNOWN_DEVICE;
  const ua = userAgent.slice(0, MAX_UA_LENGTH);
  const hit = cache.get(ua);
  if (hit) return hit;
  const result = new UAParser(ua).getResult();
  const info: DeviceInfo = Object.freeze({
    browser: result.browser.name ?? null,
    browserVersion: result.browser.version ?? null,
    os: result.os.name ?? null,
    osVersion: result.os.version ?? null,
    type: deviceType(result.device.type, ua, result.os.name),
  });
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(ua, info);
  return info;
}

function deviceType(parsed: string | undefined, ua: string, os: string | undefined): DeviceType {
  if (BOT_PATTERN.test(ua)) return 'bot';
  if (parsed === 'mobile' || parsed === 'wearable') return 'mobile';
  if (parsed === 'tablet') return 'tablet';
  if (parsed === 'console' || parsed === 'smarttv' || parsed === 'embedded') return 'unknown';
  if (os && /windows|mac os|linux|chrome os|ubuntu|debian|fedora/i.test(os)) return 'desktop';
  return 'unknown';
}
