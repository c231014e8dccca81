// The Quick start in a CommonJS app (Node.js 20.19+ or 22.12+ load the ESM package with require()).
const { createSessionManager } = require('tessera-session');

async function main() {
  const sessions = createSessionManager({ idleTimeout: '30m', maxSessionsPerUser: 5 });
  const { token, csrfToken } = await sessions.create({
    userId: 'alice',
    ip: '203.0.113.7',
    userAgent: 'curl/8.5',
  });
  const { session, reason } = await sessions.validate(token, {
    ip: '203.0.113.7',
    userAgent: 'curl/8.5',
  });
  if (session) {
    console.log(`hello ${session.userId}`, sessions.verifyCsrf(session, csrfToken));
    await sessions.terminate(session.id, 'logout');
  } else {
    console.log(`no session: ${reason}`);
  }
  await sessions.close();
}

main();
