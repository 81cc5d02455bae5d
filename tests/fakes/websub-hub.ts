/**
 * A fake WebSub hub for tests and benchmarks: node:http on 127.0.0.1, a random port. It speaks the hub's
 * side of the W3C WebSub protocol as far as Manchete needs:
 *
 * - `POST /` with hub.mode=subscribe|unsubscribe, hub.topic, hub.callback, hub.secret, hub.lease_seconds:
 *   answers 202, then verifies the intent (GET callback?hub.mode&hub.topic&hub.challenge&hub.lease_seconds)
 *   and takes the subscription only when the callback echoes the challenge with a 2xx.
 * - `publish(topic, …)`: notifies every verified subscriber of the topic, with the feed's content (fat
 *   ping) or an empty body (thin), signed with the subscriber's secret (or unsigned / wrongly signed, to
 *   test refusals). Returns each callback's HTTP status.
 *
 *   const hub = await startFakeHub({ leaseSeconds: 3 });
 *   … feed advertises <atom:link rel="hub" href={hub.url}/> …
 *   await hub.waitFor(() => hub.active('https://site/feed').length === 1);
 *   await hub.publish('https://site/feed', { body: rss, contentType: 'application/rss+xml' });
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HubRequest {
  mode: string;
  topic: string;
  callback: string;
  secret: string | null;
  leaseSeconds: number | null;
  at: number;
}

export interface HubSubscription {
  topic: string;
  callback: string;
  secret: string | null;
  leaseSeconds: number;
  verifiedAt: number;
  /** Times this callback was verified for a subscribe (1, then 2 after a renewal…). */
  verifications: number;
}

export interface PublishOptions {
  /** The notification body: the feed's content for a fat ping; empty (default) for a thin one. */
  body?: string;
  contentType?: string;
  /** 'valid' (default), 'none' (no X-Hub-Signature), 'wrong' (signed with another secret). */
  signature?: 'valid' | 'none' | 'wrong';
  algorithm?: 'sha1' | 'sha256' | 'sha384' | 'sha512';
}

export interface FakeHub {
  /** The hub URL to advertise: `http://127.0.0.1:<port>/`. */
  url: string;
  /** Every subscribe/unsubscribe request received, in order. */
  requests: HubRequest[];
  /** Verified subscriptions of a topic (all topics when absent). */
  active(topic?: string): HubSubscription[];
  /** Verification results: the callback, the mode and what the subscriber answered. */
  verifications: { callback: string; mode: string; status: number; echoed: boolean }[];
  publish(topic: string, o?: PublishOptions): Promise<{ callback: string; status: number; sentAt: number }[]>;
  /** Sends a verification GET of our own making (to test that the subscriber refuses what it did not ask). */
  verify(callback: string, params: Record<string, string>): Promise<{ status: number; body: string }>;
  waitFor(predicate: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeHub(opts: { leaseSeconds?: number; answer?: number } = {}): Promise<FakeHub> {
  const requests: HubRequest[] = [];
  const subs = new Map<string, HubSubscription>();
  const verifications: FakeHub['verifications'] = [];

  const verify = async (callback: string, params: Record<string, string>) => {
    const u = new URL(callback);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v);
    const res = await fetch(u, { method: 'GET' });
    return { status: res.status, body: await res.text() };
  };

  const readForm = async (req: IncomingMessage) => {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    return new URLSearchParams(text);
  };

  const server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'POST') {
        res.writeHead(405).end();
        return;
      }
      const form = await readForm(req);
      const r: HubRequest = {
        mode: form.get('hub.mode') ?? '',
        topic: form.get('hub.topic') ?? '',
        callback: form.get('hub.callback') ?? '',
        secret: form.get('hub.secret'),
        leaseSeconds: form.has('hub.lease_seconds') ? Number(form.get('hub.lease_seconds')) : null,
        at: Date.now(),
      };
      requests.push(r);
      if (opts.answer && opts.answer !== 202) {
        res.writeHead(opts.answer).end('refused');
        return;
      }
      if (!r.topic || !r.callback || (r.mode !== 'subscribe' && r.mode !== 'unsubscribe')) {
        res.writeHead(400).end('bad request');
        return;
      }
      res.writeHead(202).end();
      // Verification of intent, after the answer (as real hubs do).
      const lease = opts.leaseSeconds ?? r.leaseSeconds ?? 86_400;
      const challenge = randomBytes(12).toString('hex');
      const got = await verify(r.callback, { 'hub.mode': r.mode, 'hub.topic': r.topic, 'hub.challenge': challenge, ...(r.mode === 'subscribe' ? { 'hub.lease_seconds': String(lease) } : {}) }).catch(() => ({ status: 0, body: '' }));
      const echoed = got.status >= 200 && got.status < 300 && got.body === challenge;
      verifications.push({ callback: r.callback, mode: r.mode, status: got.status, echoed });
      if (!echoed) return;
      const key = `${r.topic} ${r.callback}`;
      if (r.mode === 'unsubscribe') subs.delete(key);
      else subs.set(key, { topic: r.topic, callback: r.callback, secret: r.secret, leaseSeconds: lease, verifiedAt: Date.now(), verifications: (subs.get(key)?.verifications ?? 0) + 1 });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  return {
    url,
    requests,
    verifications,
    active: (topic) => [...subs.values()].filter((s) => !topic || s.topic === topic),
    verify,
    publish: async (topic, o = {}) => {
      const body = o.body ?? '';
      const algorithm = o.algorithm ?? 'sha256';
      const out: { callback: string; status: number; sentAt: number }[] = [];
      for (const s of [...subs.values()].filter((x) => x.topic === topic)) {
        const headers: Record<string, string> = { 'content-type': o.contentType ?? 'application/rss+xml; charset=utf-8', link: `<${url}>; rel="hub", <${topic}>; rel="self"` };
        const signature = o.signature ?? 'valid';
        if (signature !== 'none') headers['x-hub-signature'] = `${algorithm}=${createHmac(algorithm, signature === 'valid' ? (s.secret ?? '') : 'not-the-secret').update(body).digest('hex')}`;
        const sentAt = performance.now();
        const res = await fetch(s.callback, { method: 'POST', headers, body });
        await res.text();
        out.push({ callback: s.callback, status: res.status, sentAt });
      }
      return out;
    },
    waitFor: async (predicate, timeoutMs = 10_000, what = 'condition') => {
      const end = Date.now() + timeoutMs;
      while (Date.now() < end) {
        if (predicate()) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`fake hub: timed out after ${timeoutMs} ms waiting for ${what}`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
