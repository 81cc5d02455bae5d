import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hono, type Context } from 'hono';
import { createAdaptorServer, type HttpBindings } from '@hono/node-server';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Logger } from '../log.js';
import type { MetricsRegistry } from './metrics.js';

export type { Metric } from './metrics.js';

/**
 * The HTTP listeners, one hono app each (served by @hono/node-server). Each serves its mounted handlers
 * (such as the Telegram webhook) and, when it is the admin listener, the operator's routes: `/health`
 * (JSON, 200 while the process can do its job, 503 otherwise), `/metrics` (Prometheus text from
 * prom-client) and whatever `extend` adds there (the web desk). A listener without `admin` answers 404
 * for those, so the public one in webhook mode shows nothing about feeds or errors. Which listener gets
 * what is decided by `planListeners` (listeners.ts).
 *
 * Tests drive the app without a socket through `createHttpApp(...).request(path)`.
 */

export interface HealthReport {
  ok: boolean;
  [key: string]: unknown;
}

/**
 * A handler on node's own request and response (the Telegram webhook streams and bounds its body itself):
 * returns true when it answered. Runs before every route; under `app.request()` (no socket) it is skipped.
 */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/** What a framework-free handler answers. */
export interface HttpAnswer {
  status: number;
  headers?: Record<string, string>;
  body?: string | Uint8Array | null;
}

/**
 * A framework-free route: `method` and a path prefix (`/hooks/publish`, `/websub/`), and a handler from a
 * standard `Request` (its URL, headers and body) to an answer. Mounting one takes no hono knowledge.
 */
export interface MountedRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'ALL';
  /** Matches the path itself and anything below it (`/websub` matches `/websub/abc`). */
  prefix: string;
  handler: (req: Request) => Promise<HttpAnswer>;
}

/** The operator's routes, served on the admin listener only. */
export interface AdminRoutes {
  health: () => Promise<HealthReport>;
  /** The registry `/metrics` serves (this app's, never prom-client's global one). */
  metrics: MetricsRegistry;
}

export type AppEnv = { Bindings: Partial<HttpBindings> };
export type HttpApp = Hono<AppEnv>;

export interface HttpAppOptions {
  logger: Logger;
  /** Serve /health and /metrics here; absent on the public listener in webhook mode. */
  admin?: AdminRoutes;
  /** Node-level handlers tried first (the webhook). */
  handlers?: RouteHandler[];
  /** Framework-free routes (CMS hooks, WebSub callbacks). */
  routes?: MountedRoute[];
  /** Adds routes to the app after the built-in ones are defined (the desk on the admin listener). */
  extend?: (app: HttpApp) => void;
}

export interface HttpServerOptions extends HttpAppOptions {
  host: string;
  port: number;
}

function pathOf(c: Context): string {
  return new URL(c.req.url).pathname;
}

/** True when `path` is `prefix` or below it. */
export function underPrefix(path: string, prefix: string): boolean {
  const p = prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return path === p || path.startsWith(`${p}/`) || (prefix.endsWith('/') && path === prefix);
}

function answer(a: HttpAnswer): Response {
  const body = a.body == null ? null : typeof a.body === 'string' ? a.body : new Uint8Array(a.body);
  return new Response(body, { status: a.status, headers: a.headers ?? {} });
}

export function createHttpApp(opts: HttpAppOptions): HttpApp {
  const app = new Hono<AppEnv>();
  const handlers = opts.handlers ?? [];
  const admin = opts.admin;

  if (handlers.length) {
    app.use('*', async (c, next) => {
      const { incoming, outgoing } = c.env ?? {};
      if (incoming && outgoing) {
        for (const h of handlers) if (await h(incoming, outgoing)) return RESPONSE_ALREADY_SENT;
      }
      await next();
    });
  }
  for (const r of opts.routes ?? []) {
    app.use('*', async (c, next) => {
      if ((r.method === 'ALL' || c.req.method === r.method) && underPrefix(pathOf(c), r.prefix)) return answer(await r.handler(c.req.raw));
      await next();
    });
  }
  if (admin) {
    const healthRoute = async (c: Context) => {
      const report = await admin.health();
      return new Response(JSON.stringify(report, null, 2), { status: report.ok ? 200 : 503, headers: { 'content-type': 'application/json' } });
    };
    app.get('/health', healthRoute);
    app.get('/healthz', healthRoute);
    app.get('/metrics', async () => {
      const text = await admin.metrics.text();
      return new Response(text, { status: 200, headers: { 'content-type': admin.metrics.contentType } });
    });
  }
  opts.extend?.(app);
  app.notFound(
    () => new Response(JSON.stringify(admin ? { error: 'not found', see: ['/health', '/metrics'] } : { error: 'not found' }), { status: 404, headers: { 'content-type': 'application/json' } }),
  );
  app.onError((err, c) => {
    opts.logger.error({ event: 'http.error', err, path: pathOf(c) }, 'HTTP handler failed');
    return new Response(JSON.stringify({ error: 'internal error' }), { status: 500, headers: { 'content-type': 'application/json' } });
  });
  return app;
}

export async function startHttpServer(opts: HttpServerOptions): Promise<{ server: Server; url: string; app: HttpApp; close(): Promise<void> }> {
  const app = createHttpApp(opts);
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${addr.address.includes(':') ? `[${addr.address}]` : addr.address}:${addr.port}`;
  return {
    server,
    url,
    app,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}
