/**
 * Which HTTP listeners run and what each serves. Pure: the composition root starts what this returns.
 *
 * - Without a Telegram webhook nothing needs to face the internet, so there is one listener, on
 *   HTTP_HOST:HTTP_PORT (127.0.0.1:8080 by default), and it is the admin listener: /health, /metrics.
 * - With the webhook, HTTP_HOST:HTTP_PORT is public (a reverse proxy sends Telegram to it) and carries
 *   the webhook only; /health and /metrics, which show feed URLs and error texts, move to the admin
 *   listener on ADMIN_HOST:ADMIN_PORT (127.0.0.1:8081 by default), and the public one answers 404 for them.
 * Later operator pages (a web desk) belong on the listener with `admin: true`.
 * - The instant-intake endpoints (the CMS publish hook, WebSub callbacks) are for the outside world too:
 *   they are on the public listener in webhook mode and on the single one otherwise (`intake: true`),
 *   never on the admin listener.
 *
 * Port 0 turns a listener off, except under tests (`ephemeral`), where it means "any free port".
 */

export interface ListenerPlan {
  /** `public`: the webhook's; `admin`: the operator's; `single`: both roles when there is no webhook. */
  name: 'public' | 'admin' | 'single';
  host: string;
  /** 0 with `ephemeral`: a free port chosen by the system. */
  port: number;
  /** Mount the platforms' webhook handlers. */
  webhook: boolean;
  /** Serve /health, /metrics (and later operator pages). */
  admin: boolean;
  /** Mount the instant-intake hooks (POST /hooks/publish, /websub/…). */
  intake: boolean;
}

export interface ListenerSettings {
  http: { host: string; port: number };
  admin: { host: string; port: number };
  /** A platform receives updates by webhook (TELEGRAM_WEBHOOK_URL with a bot token). */
  webhookMode: boolean;
  /** Port 0 means a free port instead of "off" (tests). */
  ephemeral: boolean;
}

export function planListeners(s: ListenerSettings): ListenerPlan[] {
  const on = (port: number) => port > 0 || s.ephemeral;
  if (!s.webhookMode) return on(s.http.port) ? [{ name: 'single', ...s.http, webhook: false, admin: true, intake: true }] : [];
  const plans: ListenerPlan[] = [];
  if (on(s.http.port)) plans.push({ name: 'public', ...s.http, webhook: true, admin: false, intake: true });
  if (on(s.admin.port)) plans.push({ name: 'admin', ...s.admin, webhook: false, admin: true, intake: false });
  return plans;
}
