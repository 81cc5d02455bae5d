/**
 * Where Manchete may connect when a URL comes from outside. Feed content, article pages, redirects,
 * images and editors' chat commands are hostile input: a link in a feed must not make the bot read
 * `http://169.254.169.254/…` or an admin page on 127.0.0.1 and post its text. So every connection made
 * for such a URL is checked against the address the socket actually reached, at connect time, on every
 * hop: a host name that resolves to a private address, or re-resolves differently between a check and
 * the connection (DNS rebinding), cannot get through, because there is no separate "check" step.
 *
 * Classification is ipaddr.js's (`range()`): anything that is not plain global unicast is refused
 * (loopback, RFC 1918, link-local, CGNAT, unique-local, unspecified, broadcast, multicast, reserved,
 * and the IPv4-mapped IPv6 forms of all of them). The operator opens holes with FETCH_ALLOW_PRIVATE.
 *
 * No maintained package does this for undici's fetch on our Node version (request-filtering-agent
 * covers http.Agent only; ssrf-guard needs Node 24), so the guard is an undici Agent whose connector
 * checks the resolved addresses in `lookup` (before any packet is sent) and the socket's remote address
 * once connected (for IP literals and as the final word).
 *
 * undici itself is loaded on the first HTTP fetch (about 10 MB resident): a process reading only local
 * feed files, as the preview mode's sample feed is, never loads it.
 */
import { lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOptions } from 'node:dns';
import { isIP, type Socket } from 'node:net';
import { createRequire } from 'node:module';
import type * as IpAddr from 'ipaddr.js';
import type { Agent, buildConnector as BuildConnector } from 'undici';

type Address = IpAddr.IPv4 | IpAddr.IPv6;
let ipaddrModule: typeof IpAddr | null = null;

/** ipaddr.js, loaded with the first address to classify (a process that fetches nothing over HTTP never needs it). */
function ipaddr(): typeof IpAddr {
  ipaddrModule ??= createRequire(import.meta.url)('ipaddr.js') as typeof IpAddr;
  return ipaddrModule;
}

/** Networks the operator allows in spite of being private (FETCH_ALLOW_PRIVATE), already parsed. */
export type AllowList = readonly (readonly [Address, number])[];

/**
 * Parses FETCH_ALLOW_PRIVATE: comma-separated CIDRs (`127.0.0.1/32,10.1.2.0/24,fd00::/8`). A bare
 * address counts as a single host. Throws an Error naming the bad entry.
 */
export function parseAllowList(spec: string | readonly string[]): AllowList {
  const items = typeof spec === 'string' ? spec.split(',') : spec;
  const out: (readonly [Address, number])[] = [];
  for (const raw of items) {
    const item = raw.trim();
    if (!item) continue;
    try {
      if (item.includes('/')) {
        const [addr, bits] = ipaddr().parseCIDR(item);
        out.push([normal(addr), addr.kind() === 'ipv6' && normal(addr).kind() === 'ipv4' ? Math.max(0, bits - 96) : bits]);
      } else {
        const addr = normal(ipaddr().parse(item));
        out.push([addr, addr.kind() === 'ipv4' ? 32 : 128]);
      }
    } catch {
      throw new Error(`FETCH_ALLOW_PRIVATE entry "${item}" is not a CIDR; use addresses with a prefix length, e.g. 127.0.0.1/32,10.1.2.0/24`);
    }
  }
  return out;
}

/** An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is the IPv4 address it carries. */
function normal(addr: Address): Address {
  return addr.kind() === 'ipv6' && (addr as IpAddr.IPv6).isIPv4MappedAddress() ? (addr as IpAddr.IPv6).toIPv4Address() : addr;
}

const RANGE_NAMES: Record<string, string> = {
  private: 'private',
  loopback: 'loopback',
  linkLocal: 'link-local',
  carrierGradeNat: 'carrier-grade NAT',
  uniqueLocal: 'unique-local',
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  multicast: 'multicast',
  reserved: 'reserved',
};

/**
 * Why an address may not be reached from hostile input: its range in words ("private", "loopback",
 * "link-local"…), or null when it is public or inside the allow-list. An unparseable address is refused.
 */
export function blockedRange(address: string, allow: AllowList = []): string | null {
  let addr: Address;
  try {
    addr = ipaddr().process(address.replace(/^\[|\]$/g, '').replace(/%.*$/, ''));
  } catch {
    return 'unparseable';
  }
  const range = addr.range();
  if (range === 'unicast') return null;
  for (const [net, bits] of allow) {
    if (net.kind() === addr.kind() && addr.match(net as never, bits)) return null;
  }
  return RANGE_NAMES[range] ?? `special-purpose (${range})`;
}

/** A connection refused because of the address it would reach. Carried as the `cause` of fetch's TypeError. */
export class BlockedAddressError extends Error {
  constructor(
    readonly address: string,
    readonly range: string,
  ) {
    super(`${address} is a ${range} address`);
    this.name = 'BlockedAddressError';
  }
}

/** The BlockedAddressError somewhere in an error's cause chain, if any. */
export function findBlocked(err: unknown): BlockedAddressError | null {
  for (let e: unknown = err, depth = 0; e && depth < 6; depth++) {
    if (e instanceof BlockedAddressError) return e;
    const cause = (e as { cause?: unknown }).cause;
    e = cause instanceof AggregateError ? cause.errors.find((x) => findBlocked(x)) : cause;
  }
  return null;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** dns.lookup that drops addresses the guard refuses, and fails when none is left. */
function guardedLookup(allow: AllowList) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    dnsLookup(hostname, { ...options, all: true } as LookupAllOptions, (err, addresses) => {
      if (err) return callback(err, options.all ? [] : '');
      const ok = addresses.filter((a) => blockedRange(a.address, allow) === null);
      if (ok.length === 0) {
        const first = addresses[0];
        const e = first ? new BlockedAddressError(first.address, blockedRange(first.address, allow)!) : new Error(`${hostname} has no address`);
        return callback(e as NodeJS.ErrnoException, options.all ? [] : '');
      }
      if (options.all) return callback(null, ok);
      callback(null, ok[0]!.address, ok[0]!.family);
    });
  };
}

/** The part of undici the fetcher uses. */
export interface Undici {
  fetch: typeof import('undici').fetch;
  Agent: typeof Agent;
  buildConnector: typeof BuildConnector;
}
let undici: Promise<Undici> | null = null;
let undiciLoaded: Undici | null = null;

/** undici, imported once, when the first HTTP request is about to be made. */
export function loadUndici(): Promise<Undici> {
  return (undici ??= import('undici').then((m) => (undiciLoaded = m)));
}

/** undici if already loaded (later requests then start without waiting a turn), else null. */
export function loadedUndici(): Undici | null {
  return undiciLoaded;
}

const agents = new Map<string, Agent>();

/**
 * The undici dispatcher for hostile URLs under an allow-list. Agents are shared per allow-list (there is
 * one in production, FETCH_ALLOW_PRIVATE), so connections are pooled as usual.
 */
export function guardedDispatcher(allow: AllowList, { Agent, buildConnector }: Undici): Agent {
  const key = allow.map(([net, bits]) => `${net.toString()}/${bits}`).join(',');
  let agent = agents.get(key);
  if (agent) return agent;
  const base = buildConnector({ lookup: guardedLookup(allow) } as BuildConnector.BuildOptions);
  agent = new Agent({
    connect(opts, callback) {
      // An IP literal never goes through lookup: refuse it before a packet is sent.
      const host = opts.hostname.replace(/^\[|\]$/g, '');
      if (isIP(host)) {
        const range = blockedRange(host, allow);
        if (range) return callback(new BlockedAddressError(host, range), null);
      }
      base(opts, (err, socket) => {
        if (err || !socket) return callback(err ?? new Error('no socket'), null);
        // The final word: the address this socket is connected to, whatever resolved it.
        const remote = (socket as Socket).remoteAddress ?? '';
        const range = blockedRange(remote, allow);
        if (range) {
          socket.destroy();
          return callback(new BlockedAddressError(remote, range), null);
        }
        callback(null, socket);
      });
    },
  });
  agents.set(key, agent);
  return agent;
}

let openAgent: Agent | null = null;

/** The dispatcher for the first hop of an operator-configured URL (FEED_URLS, the routes file, CLI): no address check. */
export function trustedDispatcher({ Agent }: Undici): Agent {
  openAgent ??= new Agent();
  return openAgent;
}
