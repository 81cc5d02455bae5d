import type { IncomingMessage, ServerResponse } from 'node:http';
import { json, type Hook, type HookResponse } from '../lib/hook.js';
import type { RouteHandler } from './server.js';

/**
 * Mounts framework-free hooks (lib/hook.ts: the publish hook, WebSub callbacks) on the node:http listener:
 * the only place that knows about IncomingMessage. A declared Content-Length over the hook's limit is
 * answered 413 before anything is read; an undeclared one is read up to the limit and no further.
 */
export function mountHooks(hooks: readonly Hook[]): RouteHandler {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    const hook = hooks.find((h) => h.matches(method, url.pathname));
    if (!hook) return false;
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v]));
    const head = { method, path: url.pathname, query: url.searchParams, headers };
    const send = (r: HookResponse) => {
      res.writeHead(r.status, r.headers ?? {});
      res.end(r.body);
    };
    const early = hook.precheck?.(head);
    if (early) {
      // The unread body is dropped with the connection, not drained.
      res.setHeader('connection', 'close');
      send(early);
      return true;
    }
    const tooLarge = json(413, { error: `the body is larger than ${hook.maxBodyBytes} bytes` });
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > hook.maxBodyBytes) {
      res.setHeader('connection', 'close');
      send(tooLarge);
      return true;
    }
    const body = await readBody(req, hook.maxBodyBytes);
    if (!body) {
      res.setHeader('connection', 'close');
      send(tooLarge);
      return true;
    }
    send(await hook.handle({ ...head, body }));
    return true;
  };
}

/** The body up to `max` bytes; null as soon as it passes them (reading stops there: nothing more is buffered). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > max) {
        req.off('data', onData);
        req.pause();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, total)));
    req.once('error', reject);
  });
}
