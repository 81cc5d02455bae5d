import { afterEach, describe, expect, it } from 'vitest';
import { createHttpApp, startHttpServer, type AdminRoutes, type HealthReport, type Metric, type MountedRoute, type RouteHandler } from '../../src/http/server.js';
import { MetricsRegistry, timeSends } from '../../src/http/metrics.js';
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
  return { health: async () => health(), metrics: new MetricsRegistry({ computed: async () => metrics, defaults: false }) };
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
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
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
        metrics: new MetricsRegistry({ defaults: false }),
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

describe('createHttpApp (in process, app.request)', () => {
  const logger = () => memoryLogger();

  it('routes /health, /healthz and /metrics on the admin app only; 404 JSON elsewhere', async () => {
    const withAdmin = createHttpApp({ logger: logger().logger, admin: admin(() => ({ ok: false, why: 'x' })) });
    const red = await withAdmin.request('/healthz');
    expect(red.status).toBe(503);
    expect(await red.json()).toEqual({ ok: false, why: 'x' });
    expect((await withAdmin.request('/metrics')).status).toBe(200);
    expect((await withAdmin.request('/metrics', { method: 'POST' })).status).toBe(404);
    const bare = createHttpApp({ logger: logger().logger });
    const nf = await bare.request('/metrics');
    expect(nf.status).toBe(404);
    expect(await nf.json()).toEqual({ error: 'not found' });
  });

  it('mounts a framework-free route by method and path prefix, with the request body and headers', async () => {
    const seen: string[] = [];
    const hook: MountedRoute = {
      method: 'POST',
      prefix: '/websub/',
      handler: async (req) => {
        seen.push(`${new URL(req.url).pathname} ${req.headers.get('x-hub-signature')} ${await req.text()}`);
        return { status: 202, headers: { 'content-type': 'text/plain' }, body: 'queued' };
      },
    };
    const app = createHttpApp({ logger: logger().logger, routes: [hook] });
    const res = await app.request('/websub/abc', { method: 'POST', headers: { 'x-hub-signature': 'sha1=1' }, body: 'hello' });
    expect(res.status).toBe(202);
    expect(await res.text()).toBe('queued');
    expect(seen).toEqual(['/websub/abc sha1=1 hello']);
    expect((await app.request('/websub/abc')).status).toBe(404);
    expect((await app.request('/websubx', { method: 'POST' })).status).toBe(404);
  });

  it('a route that throws is a logged 500', async () => {
    const log = logger();
    const app = createHttpApp({ logger: log.logger, routes: [{ method: 'ALL', prefix: '/boom', handler: async () => { throw new Error('no'); } }] });
    expect((await app.request('/boom/x')).status).toBe(500);
    expect(log.lines.some((l) => l.includes('"event":"http.error"') && l.includes('/boom/x'))).toBe(true);
  });
});

describe('MetricsRegistry', () => {
  it('serves default process metrics, computed figures and the histograms; registries do not share values', async () => {
    let sent = 2;
    const a = new MetricsRegistry({ computed: async () => [{ name: 'manchete_sent_total', help: 'sent', type: 'counter', values: [{ value: sent }] }] });
    const b = new MetricsRegistry({ defaults: false });
    a.pollSeconds.observe({ feed: 'https://example.com/feed', status: 'ok' }, 0.3);
    const text = await a.text();
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toContain('manchete_sent_total 2');
    expect(text).toContain('manchete_poll_duration_seconds_bucket{le="0.5",feed="https://example.com/feed",status="ok"} 1');
    sent = 5;
    expect(await a.text()).toContain('manchete_sent_total 5');
    const other = await b.text();
    expect(other).not.toContain('process_cpu_user_seconds_total');
    expect(other).not.toContain('feed="https://example.com/feed"');
  });

  it('timeSends observes each send by platform and outcome and leaves the other methods alone', async () => {
    const m = new MetricsRegistry({ defaults: false });
    let fail = false;
    const sender = {
      platform: 'telegram',
      calls: 0,
      async send(_d: unknown, _msg: unknown) {
        this.calls++;
        if (fail) throw new Error('down');
        return { messageId: '1' };
      },
      ready() {
        return this.calls >= 0;
      },
    };
    const timed = timeSends(sender, m);
    await timed.send({} as never, {} as never);
    fail = true;
    await expect(timed.send({} as never, {} as never)).rejects.toThrow('down');
    expect(timed.ready()).toBe(true);
    expect(sender.calls).toBe(2);
    const text = await m.text();
    expect(text).toContain('manchete_send_duration_seconds_count{platform="telegram",outcome="ok"} 1');
    expect(text).toContain('manchete_send_duration_seconds_count{platform="telegram",outcome="error"} 1');
  });
});
