/**
 * Memcached processes the Memcached store tests start themselves on free loopback ports, and a raw
 * `stats` probe that tells how many items each one holds (to show that every server is used).
 */
import { Socket } from 'node:net';
import { type ChildServer, freePort, startServer } from './services.js';

/** Starts `memcached` on a free 127.0.0.1 port (64 MB, no UDP). */
export async function startMemcached(): Promise<ChildServer> {
  const port = await freePort();
  return startServer(
    'memcached',
    [
      ...['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-m', '64'],
      // memcached refuses to run as root unless told which user to stay.
      ...(process.getuid?.() === 0 ? ['-u', 'root'] : []),
    ],
    port,
  );
}

/** `curr_items` of the memcached at 127.0.0.1:port. */
export function currentItems(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let text = '';
    socket.setTimeout(2000, () => {
      socket.destroy();
      reject(new Error('stats timed out'));
    });
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.endsWith('END\r\n')) {
        socket.end();
        const match = text.match(/STAT curr_items (\d+)/);
        resolve(match ? Number(match[1]) : 0);
      }
    });
    socket.connect(port, '127.0.0.1', () => socket.write('stats\r\n'));
  });
}
