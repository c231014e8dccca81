/**
 * The demo's users. Passwords are shown on the login page on purpose (it is a demo) and kept here
 * only as scrypt hashes, compared in constant time, the way a real app would check them.
 */
import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

export interface DemoUser {
  id: string;
  username: string;
  name: string;
  admin: boolean;
}

/** Shown on the login page. */
export const DEMO_CREDENTIALS = [
  { username: 'alice', password: 'wonderland', note: 'regular user' },
  { username: 'bob', password: 'builder', note: 'regular user' },
  { username: 'admin', password: 'admin-demo', note: 'can open the admin dashboard' },
] as const;

const salt = randomBytes(16);
const hash = (password: string) => scryptSync(password, salt, 32, { N: 1024 });

const USERS = new Map<string, { user: DemoUser; hash: Buffer }>(
  DEMO_CREDENTIALS.map((c) => [
    c.username,
    {
      user: {
        id: `user-${c.username}`,
        username: c.username,
        name: c.username[0]!.toUpperCase() + c.username.slice(1),
        admin: c.username === 'admin',
      } satisfies DemoUser,
      hash: hash(c.password),
    },
  ]),
);
// An unknown user still costs one hash, so response time does not reveal which names exist.
const decoy = hash('decoy');

/** The user for good credentials, or `null`. */
export function checkPassword(username: string, password: string): DemoUser | null {
  const entry = USERS.get(username.trim().toLowerCase());
  const ok = timingSafeEqual(hash(password), entry?.hash ?? decoy);
  return ok && entry ? entry.user : null;
}

export function userById(id: string | null): DemoUser | null {
  if (!id) return null;
  for (const { user } of USERS.values()) if (user.id === id) return user;
  return null;
}
