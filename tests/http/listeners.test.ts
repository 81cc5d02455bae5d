import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { planListeners } from '../../src/http/listeners.js';

const http = { host: '127.0.0.1', port: 8080 };
const admin = { host: '127.0.0.1', port: 8081 };

describe('planListeners', () => {
  it('without a webhook: one listener on HTTP_HOST:HTTP_PORT with health and metrics, no webhook handlers', () => {
    expect(planListeners({ http, admin, webhookMode: false, ephemeral: false })).toEqual([{ name: 'single', host: '127.0.0.1', port: 8080, webhook: false, admin: true, intake: true }]);
  });

  it('with a webhook: the public listener has the webhook and the intake hooks only; the admin listener has health and metrics', () => {
    expect(planListeners({ http: { host: '0.0.0.0', port: 8080 }, admin, webhookMode: true, ephemeral: false })).toEqual([
      { name: 'public', host: '0.0.0.0', port: 8080, webhook: true, admin: false, intake: true },
      { name: 'admin', host: '127.0.0.1', port: 8081, webhook: false, admin: true, intake: false },
    ]);
  });

  it('port 0 turns a listener off, except under tests where it is any free port', () => {
    expect(planListeners({ http: { ...http, port: 0 }, admin, webhookMode: false, ephemeral: false })).toEqual([]);
    expect(planListeners({ http, admin: { ...admin, port: 0 }, webhookMode: true, ephemeral: false }).map((p) => p.name)).toEqual(['public']);
    expect(planListeners({ http: { ...http, port: 0 }, admin: { ...admin, port: 0 }, webhookMode: true, ephemeral: true }).map((p) => [p.name, p.port])).toEqual([
      ['public', 0],
      ['admin', 0],
    ]);
  });
});

describe('ADMIN_* settings', () => {
  it('default to 127.0.0.1:8081 and keep HTTP at 127.0.0.1:8080', () => {
    const c = loadConfig({});
    expect(c.http).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(c.admin).toEqual({ host: '127.0.0.1', port: 8081 });
  });

  it('in webhook mode the admin port must differ from HTTP_PORT', () => {
    expect(() => loadConfig({ TELEGRAM_WEBHOOK_URL: 'https://bot.example.com/hook', HTTP_PORT: '9000', ADMIN_PORT: '9000' })).toThrow(
      'ADMIN_PORT=9000 is HTTP_PORT too',
    );
    // Without a webhook ADMIN_PORT is unused, so the same number is harmless.
    expect(loadConfig({ HTTP_PORT: '9000', ADMIN_PORT: '9000' }).admin.port).toBe(9000);
  });
});
