import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';

/**
 * The HTTP listeners. Each serves its mounted handlers (such as the Telegram webhook) and, when it is the
 * admin listener, the operator's routes: `/health` (JSON, 200 while the process can do its job, 503
 * otherwise) and `/metrics` (Prometheus text). A listener without `admin` answers 404 for those, so the
 * public one in webhook mode shows nothing about feeds or errors. Which listener gets what is decided by
 * `planListeners` (listeners.ts).
 */

export interface HealthReport {
  ok: boolean;
  [key: string]: unknown;
}

/** A mounted handler: returns true when it answered the request. */
export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export interface Metric {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  values: { labels?: Record<string, string>; value: number }[];
}

/** The operator's routes, served on the admin listener only. */
export interface AdminRoutes {
  health: () => Promise<HealthReport>;
  metrics: () => Promise<Metric[]>;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  logger: Logger;
  /** Serve /health and /metrics here; absent on the public listener in webhook mode. */
  admin?: AdminRoutes;
  handlers?: RouteHandler[];
}

export function formatMetrics(metrics: Metric[]): string {
  const lines: string[] = [];
  const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  for (const m of metrics) {
    lines.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`);
    for (const v of m.values) {
      const labels = v.labels && Object.keys(v.labels).length ? `{${Object.entries(v.labels).map(([k, x]) => `${k}="${esc(x)}"`).join(',')}}` : '';
      lines.push(`${m.name}${labels} ${Number.isFinite(v.value) ? v.value : 0}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export async function startHttpServer(opts: HttpServerOptions): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const handlers = opts.handlers ?? [];
  const server = createServer((req, res) => {
    void (async () => {
      try {
        for (const h of handlers) if (await h(req, res)) return;
        const path = (req.url ?? '/').split('?')[0];
        const admin = opts.admin;
        if (admin && req.method === 'GET' && (path === '/health' || path === '/healthz')) {
          const report = await admin.health();
          res.writeHead(report.ok ? 200 : 503, { 'content-type': 'application/json' });
          res.end(JSON.stringify(report, null, 2));
          return;
        }
        if (admin && req.method === 'GET' && path === '/metrics') {
          res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
          res.end(formatMetrics(await admin.metrics()));
          return;
        }
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify(admin ? { error: 'not found', see: ['/health', '/metrics'] } : { error: 'not found' }));
      } catch (err) {
        opts.logger.error({ event: 'http.error', err, path: (req.url ?? '/').split('?')[0] }, 'HTTP handler failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: 'internal error' }));
      }
    })();
  });
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
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      }),
  };
}
