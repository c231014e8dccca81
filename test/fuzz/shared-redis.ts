/**
 * The fuzz suites use the shared Redis on 127.0.0.1:6379 under a random key prefix of their own;
 * this removes exactly those keys afterwards (never FLUSHALL on a shared server).
 */
import { Redis } from 'ioredis';

export async function deleteRedisPrefix(prefix: string, port = 6379): Promise<void> {
  if (!/^[A-Za-z0-9:_-]+$/.test(prefix)) throw new Error(`unsafe prefix ${prefix}`);
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
  await client.connect();
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.del(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
}
