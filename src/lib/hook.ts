import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * A framework-free HTTP endpoint (the CMS publish hook, the WebSub callbacks): plain values in, plain
 * values out, so the same handler runs under node:http today and any framework later; the listener only
 * adapts requests to this shape (src/http/hooks.ts). Bodies arrive whole, already cut at `maxBodyBytes`
 * by the adapter, which answers 413 itself past the limit without reading further (under hono:
 * its `bodyLimit` middleware with `maxBodyBytes`).
 */
export interface HookRequest {
  method: string;
  /** The path without the query string. */
  path: string;
  query: URLSearchParams;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Readonly<Record<string, string | undefined>>;
  body: Buffer;
}

export interface HookResponse {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

export interface Hook {
  /** Whether this hook owns the request (method and path only: nothing has been read yet). */
  matches(method: string, path: string): boolean;
  /** Largest body read; a longer one is answered 413 by the adapter. */
  maxBodyBytes: number;
  /**
   * Optional answer before the body is read (a missing signature header → 401), so an unauthenticated
   * request costs no reading at all. Null: go on and read the body.
   */
  precheck?(req: Omit<HookRequest, 'body'>): HookResponse | null;
  handle(req: HookRequest): Promise<HookResponse>;
}

export const json = (status: number, value: unknown): HookResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(value),
});

const DIGESTS = new Set(['sha1', 'sha256', 'sha384', 'sha512']);

/**
 * Checks `<algo>=<hex>` against the HMAC of `body` with `secret`, in constant time (the comparison never
 * stops at the first differing byte). `allowed` restricts the algorithms (the publish hook takes only
 * sha256). False for anything malformed.
 */
export function verifyHmac(header: string | undefined, body: Buffer, secret: string, allowed: ReadonlySet<string> = DIGESTS): boolean {
  if (!header) return false;
  const eq = header.indexOf('=');
  if (eq < 0) return false;
  const algo = header.slice(0, eq).trim().toLowerCase();
  const hex = header.slice(eq + 1).trim();
  if (!allowed.has(algo) || !DIGESTS.has(algo) || !/^[0-9a-fA-F]+$/.test(hex) || hex.length % 2) return false;
  const expected = createHmac(algo, secret).update(body).digest();
  const given = Buffer.from(hex, 'hex');
  // Lengths differ only for a wrong algorithm's digest: comparing equal-length buffers keeps timing flat.
  if (given.length !== expected.length) return false;
  return timingSafeEqual(given, expected);
}
