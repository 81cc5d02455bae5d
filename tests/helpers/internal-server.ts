/**
 * An "internal" server on another loopback address (127.0.0.2 by default): it stands for the admin
 * page or metadata service a hostile link tries to reach. It counts TCP connections and requests, so a
 * test can assert that the guard refused before a single packet arrived.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface InternalServer {
  origin: string;
  connections: number;
  hits: number;
  close(): Promise<void>;
}

export async function startInternalServer(host = '127.0.0.2', body = 'INTERNAL-ONLY admin page'): Promise<InternalServer> {
  const state = { connections: 0, hits: 0 };
  const server = createServer((_req, res) => {
    state.hits++;
    res.writeHead(200, { 'content-type': 'text/html' }).end(`<html><head><title>${body}</title><meta property="og:title" content="${body}"><meta property="og:description" content="${body} — private text that must never be posted"></head><body><p>${body}</p></body></html>`);
  });
  server.on('connection', () => state.connections++);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const origin = `http://${host}:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    get connections() {
      return state.connections;
    },
    get hits() {
      return state.hits;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  } as InternalServer;
}

/** A gzip body that inflates to `inflatedBytes` of zeros, made in chunks (the test never holds the inflated bytes). */
export async function gzipBomb(inflatedBytes: number): Promise<Buffer> {
  const { createGzip } = await import('node:zlib');
  const gz = createGzip({ level: 9 });
  const out: Buffer[] = [];
  gz.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((resolve, reject) => {
    gz.on('end', resolve);
    gz.on('error', reject);
  });
  const chunk = Buffer.alloc(1024 * 1024);
  for (let left = inflatedBytes; left > 0; left -= chunk.length) {
    if (!gz.write(left >= chunk.length ? chunk : chunk.subarray(0, left))) await new Promise((r) => gz.once('drain', r));
  }
  gz.end();
  await done;
  return Buffer.concat(out);
}
