/**
 * One server process of the two-process test: the cookie-session app on every adapter (one port
 * each), with the secrets and the Redis generations the parent passes (argv: secrets joined by
 * commas, Redis port, key prefix). It reports its URLs over IPC and serves until it is killed.
 */
import { createSessionManager } from '../../../src/index.js';
import {
  createCookieStore,
  generationsFromRateLimitStore,
} from '../../../src/stores/cookie/index.js';
import { createRedisRateLimitStore } from '../../../src/stores/redis/index.js';
import { ADAPTERS, startApp } from './apps.js';

const [secrets, redisPort, prefix] = process.argv.slice(2) as [string, string, string];
const generations = generationsFromRateLimitStore(
  createRedisRateLimitStore({ port: Number(redisPort), prefix }),
);
const cookies = createCookieStore({ secrets: secrets.split(','), generations });
const manager = createSessionManager({ store: cookies.sessionStore(), cleanupInterval: false });
const urls: Record<string, string> = {};
for (const adapter of ADAPTERS)
  urls[adapter] = (await startApp(adapter, manager, { mode: 'development' })).url;
process.send?.({ urls, pid: process.pid });
