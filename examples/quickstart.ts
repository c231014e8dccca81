import { createSessionManager } from 'tessera-session';

const sessions = createSessionManager({ idleTimeout: '30m', maxSessionsPerUser: 5 });

// At login: `token` goes in an HttpOnly cookie, `csrfToken` in the page.
const { token, csrfToken } = await sessions.create({
  userId: 'alice',
  ip: '203.0.113.7',
  userAgent: 'curl/8.5',
});

// On every request:
const { session, reason } = await sessions.validate(token, {
  ip: '203.0.113.7',
  userAgent: 'curl/8.5',
});
console.log(
  session ? `hello ${session.userId}` : `no session: ${reason}`,
  sessions.verifyCsrf(session!, csrfToken),
);

await sessions.terminate(session!.id, 'logout'); // log out
await sessions.close();
