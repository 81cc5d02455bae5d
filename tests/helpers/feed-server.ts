/**
 * A fake feed (and article page) server for tests: node:http on 127.0.0.1, a random port, answers
 * scripted per path. It can answer with any status, headers and bytes, wait before answering, redirect,
 * honour conditional GET (304 when the ETag or Last-Modified matches), send a body without
 * Content-Length, lie about Content-Length, or hang. Every request is recorded for assertions.
 *
 *   const server = await startFeedServer({ '/feed.xml': { body: rss, etag: '"v1"' } });
 *   await fetchFeed({ url: server.urlFor('/feed.xml'), etag: null, lastModified: null }, opts);
 *   await server.close();
 */
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the server answers one path. Everything is optional: the default is an empty 200. */
export interface Route {
  status?: number;
  headers?: Record<string, string>;
  /** A string is sent as UTF-8; bytes as they are (for charset tests). */
  body?: string | Uint8Array;
  /** Shorthand for the Content-Type header. */
  contentType?: string;
  /** Wait this long before sending the headers. */
  delayMs?: number;
  /** Never answer (the client must time out). */
  hang?: boolean;
  /** Send the headers and the first half of the body, then stall. */
  hangAfterHeaders?: boolean;
  /** Answer with a redirect to `to` (absolute, or a path on this server). */
  redirect?: { to: string; status?: 301 | 302 | 303 | 307 | 308 };
  /** Sent as ETag; a request whose If-None-Match matches gets 304. */
  etag?: string;
  /** Sent as Last-Modified; a request whose If-Modified-Since equals it gets 304. */
  lastModified?: string;
  /** Send the body in chunks without Content-Length (chunked transfer). */
  chunked?: boolean;
  /** Announce this Content-Length whatever the body is. */
  contentLength?: number;
}

/** A route, or a function choosing the answer per request (for sequences: first 200, then 304…). */
export type RouteSpec = Route | ((req: RecordedRequest) => Route);

/** What the server saw of one request. */
export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | undefined>;
}

/** A running fake server. */
export interface FeedServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** Absolute URL of a path on this server. */
  urlFor(path: string): string;
  /** Add or replace the answer for a path. */
  route(path: string, spec: RouteSpec): void;
  /** Requests received so far, in order. */
  requests: RecordedRequest[];
  /** Stop listening and drop open connections (hanging ones included). */
  close(): Promise<void>;
}

/** Start a server on a random loopback port with the given routes; unknown paths answer 404. */
export async function startFeedServer(routes: Record<string, RouteSpec> = {}): Promise<FeedServer> {
  const table = new Map<string, RouteSpec>(Object.entries(routes));
  const requests: RecordedRequest[] = [];
  const pending = new Set<ServerResponse>();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path,
      headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : v])),
    };
    requests.push(recorded);
    const spec = table.get(path) ?? table.get(path.split('?')[0]!);
    if (!spec) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const route = typeof spec === 'function' ? spec(recorded) : spec;
    pending.add(res);
    res.on('close', () => pending.delete(res));
    if (route.hang) return;
    const answer = () => respond(route, recorded, res, origin);
    if (route.delayMs) setTimeout(answer, route.delayMs);
    else answer();
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    urlFor: (path) => new URL(path, origin).href,
    route: (path, spec) => void table.set(path, spec),
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of pending) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function respond(route: Route, req: RecordedRequest, res: ServerResponse, origin: string): void {
  if (res.destroyed) return;
  const headers: Record<string, string> = { ...route.headers };
  if (route.contentType) headers['content-type'] = route.contentType;
  if (route.etag) headers.etag = route.etag;
  if (route.lastModified) headers['last-modified'] = route.lastModified;

  if (route.redirect) {
    headers.location = new URL(route.redirect.to, origin).href;
    res.writeHead(route.redirect.status ?? 302, headers).end();
    return;
  }
  const etagMatches = route.etag !== undefined && req.headers['if-none-match'] === route.etag;
  const dateMatches = route.lastModified !== undefined && req.headers['if-modified-since'] === route.lastModified;
  if (etagMatches || dateMatches) {
    res.writeHead(304, headers).end();
    return;
  }

  const body = typeof route.body === 'string' ? Buffer.from(route.body, 'utf8') : Buffer.from(route.body ?? new Uint8Array(0));
  if (route.contentLength !== undefined) headers['content-length'] = String(route.contentLength);
  else if (!route.chunked && !route.hangAfterHeaders) headers['content-length'] = String(body.length);
  res.writeHead(route.status ?? 200, headers);

  if (route.hangAfterHeaders) {
    res.write(body.subarray(0, Math.floor(body.length / 2)));
    return;
  }
  if (route.chunked) {
    const size = 64 * 1024;
    // Buffered by node and sent as the client reads; dropped if the client hangs up early.
    for (let i = 0; i < body.length; i += size) res.write(body.subarray(i, i + size));
    res.end();
    return;
  }
  res.end(body);
}
