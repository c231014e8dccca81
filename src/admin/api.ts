/**
 * The dashboard's JSON API under `<basePath>/api/`: `overview`, `sessions`, `audit` (GET), and
 * `sessions/<id>/terminate`, `users/<userId>/terminate` (POST, the caller has already checked the
 * CSRF token). API clients confirm in their own UI, so the API acts in one step.
 */
import { statsForJson } from '../core/analytics.js';
import type { SessionManager } from '../core/manager-api.js';
import type { AdminData } from './data.js';
import { decodeSegment } from './requests.js';
import { json, positiveInt, SESSION_ID } from './responses.js';

const MAX_API_LIMIT = 500;

export interface AdminApi {
  get(route: string, url: URL): Promise<Response>;
  post(route: string): Promise<Response>;
}

export function createAdminApi(
  // biome-ignore lint/suspicious/noExplicitAny: any manager's data type is fine here
  manager: SessionManager<any>,
  data: AdminData,
  settings: { pageSize: number; sampleInterval: number },
): AdminApi {
  const store = manager.store;
  return {
    async get(route, url) {
      const limit = positiveInt(url.searchParams.get('limit'), settings.pageSize, MAX_API_LIMIT);
      const offset = Math.max(0, Number.parseInt(url.searchParams.get('offset') ?? '0', 10) || 0);
      if (route === '/api/overview') {
        const { now, stats, health, samples } = await data.overview();
        return json(200, {
          generatedAt: new Date(now).toISOString(),
          store: stats.store,
          capabilities: store.capabilities,
          health,
          sessions: statsForJson(stats.sessions),
          counters: stats.counters,
          history: {
            sampleInterval: settings.sampleInterval,
            samples: samples.map((s) => ({ ...s, at: new Date(s.at).toISOString() })),
          },
        });
      }
      if (route === '/api/sessions') {
        if (!data.listable())
          return json(501, {
            error: 'not_supported',
            message: `the ${store.name} store cannot list sessions`,
          });
        const user = url.searchParams.get('user') ?? '';
        return json(200, { offset, limit, ...(await data.listSessions(user, offset, limit)) });
      }
      if (route === '/api/audit') {
        if (!data.auditable())
          return json(501, {
            error: 'not_supported',
            message: `the ${store.name} store keeps no audit trail`,
          });
        return json(200, { offset, limit, ...(await data.listAudit(offset, limit)) });
      }
      return json(404, { error: 'not_found' });
    },

    async post(route) {
      let match = route.match(/^\/api\/sessions\/([^/]+)\/terminate$/);
      if (match) {
        const id = decodeSegment(match[1]!);
        if (!SESSION_ID.test(id))
          return json(400, {
            error: 'bad_request',
            message: 'id must be a session id (64 hex characters)',
          });
        return json(200, { id, terminated: await manager.terminate(id, 'admin') });
      }
      match = route.match(/^\/api\/users\/([^/]+)\/terminate$/);
      if (match) {
        const userId = decodeSegment(match[1]!);
        if (userId === '') return json(400, { error: 'bad_request', message: 'userId is empty' });
        const ids = await manager.terminateUser(userId, { reason: 'admin' });
        return json(200, { userId, terminated: ids.length, ids });
      }
      return json(404, { error: 'not_found' });
    },
  };
}
