import { afterEach, describe, expect, it } from 'vitest';
import { formatMetrics, startHttpServer, type AdminRoutes, type HealthReport, type Metric, type RouteHandler } from '../../src/http/server.js';
import { planListeners } from '../../src/http/listeners.js';
import { memoryLogger } from '../platforms/telegram/helpers.js';

/** The HTTP server on a real listener (127.0.0.1, a free port): routes, status codes, failures. */

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.reverse()) await c();
  closers = [];
});

async function listen(opts: { admin?: AdminRoutes; handlers?: RouteHandler[] }) {
  const log = memoryLogger();
  const s = await startHttpServer({ host: '127.0.0.1', port: 0, logger: log.logger, ...opts });
  closers.push(() => s.close());
  return { ...s, lines: log.lines };
}

function admin(health: () => HealthReport, metrics: Metric[] = []): AdminRoutes {
  return { health: async () => health(), metrics: async () => metrics };
}

describe('startHttpServer', () => {
  it('listens on the host given, on a free port for port 0', async () => {
    const s = await listen({});
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Number(new URL(s.url).port)).toBeGreaterThan(0);
  });

  it('/health is 200 with the report while ok, 503 when not; /healthz is the same route', async () => {
    let ok = true;
    const s = await listen({ admin: admin(() => ({ ok, feeds: 2 })) });
    const green = await fetch(`${s.url}/health`);
    expect(green.status).toBe(200);
    expect(green.headers.get('content-type')).toBe('application/json');
    expect(await green.json()).toEqual({ ok: true, feeds: 2 });
    ok = false;
    const red = await fetch(`${s.url}/healthz?verbose=1`);
    expect(red.status).toBe(503);
    expect(await red.json()).toEqual({ ok: false, feeds: 2 });
  });

  it('/metrics is Prometheus text with its content type, labels escaped', async () => {
    const metrics: Metric[] = [{ name: 'manchete_sent_total', help: 'Messages sent', type: 'counter', values: [{ labels: { platform: 'telegram', chat: 'a"b' }, value: 3 }] }];
    const s = await listen({ admin: admin(() => ({ ok: true }), metrics) });
    const res = await fetch(`${s.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4');
    const text = await res.text();
    expect(text).toBe(formatMetrics(metrics));
    expect(text).toContain('manchete_sent_total{platform="telegram",chat="a\\"b"} 3');
    expect(text).toContain('# TYPE manchete_sent_total counter');
  });

  it('answers 404 for unknown paths and other methods; without admin, /health and /metrics are 404 too', async () => {
    const withAdmin = await listen({ admin: admin(() => ({ ok: true })) });
    const missing = await fetch(`${withAdmin.url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'not found', see: ['/health', '/metrics'] });
    expect((await fetch(`${withAdmin.url}/health`, { method: 'POST' })).status).toBe(404);

    const publicOnly = await listen({});
    for (const path of ['/health', '/metrics']) {
      const res = await fetch(`${publicOnly.url}${path}`);
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ error: 'not found' });
    }
  });

  it('serves mounted handlers first; one that declines falls through to the routes', async () => {
    const hook: RouteHandler = async (req, res) => {
      if (req.url !== '/hook') return false;
      res.writeHead(204);
      res.end();
      return true;
    };
    const s = await listen({ admin: admin(() => ({ ok: true })), handlers: [hook] });
    expect((await fetch(`${s.url}/hook`, { method: 'POST' })).status).toBe(204);
    expect((await fetch(`${s.url}/health`)).status).toBe(200);
  });

  it('a failing handler or health check is a 500 with a log line, and the server keeps serving', async () => {
    let fail = true;
    const boom: RouteHandler = async (req) => {
      if (req.url === '/boom') throw new Error('handler exploded');
      return false;
    };
    const s = await listen({
      admin: {
        health: async () => {
          if (fail) throw new Error('store unreachable');
          return { ok: true };
        },
        metrics: async () => [],
      },
      handlers: [boom],
    });
    const res = await fetch(`${s.url}/boom`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'internal error' });
    expect((await fetch(`${s.url}/health`)).status).toBe(500);
    const errors = s.lines.map((l) => JSON.parse(l) as { event?: string; path?: string }).filter((l) => l.event === 'http.error');
    expect(errors.map((e) => e.path)).toEqual(['/boom', '/health']);
    fail = false;
    expect((await fetch(`${s.url}/health`)).status).toBe(200);
  });

  it('a port in use fails the start instead of hanging', async () => {
    const first = await listen({});
    const port = Number(new URL(first.url).port);
    await expect(startHttpServer({ host: '127.0.0.1', port, logger: memoryLogger().logger })).rejects.toThrow(/EADDRINUSE/);
  });
});

describe('planListeners → startHttpServer', () => {
  it('in webhook mode under tests, the public listener hides /health and the admin one serves it', async () => {
    const plans = planListeners({ http: { host: '127.0.0.1', port: 0 }, admin: { host: '127.0.0.1', port: 0 }, webhookMode: true, ephemeral: true });
    const started = await Promise.all(plans.map((p) => listen(p.admin ? { admin: admin(() => ({ ok: true })) } : {})));
    const byName = Object.fromEntries(plans.map((p, i) => [p.name, started[i]!]));
    expect((await fetch(`${byName.public!.url}/health`)).status).toBe(404);
    expect((await fetch(`${byName.admin!.url}/health`)).status).toBe(200);
  });
});
