/**
 * Preloaded (`node --import`) into the idle-memory bench's Manchete process: every TCP connection to a
 * host other than 127.0.0.0/8, ::1 or localhost fails at once, before any DNS lookup, as on a machine
 * without a network. WhatsApp is then configured but unreachable, as the bench wants, and nothing leaves
 * the machine.
 */
import net from 'node:net';

const loopback = (host: unknown) => typeof host !== 'string' || host === 'localhost' || host === '::1' || /^127\./.test(host);
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
  const first = args[0];
  const host = typeof first === 'object' && first !== null ? (first as { host?: unknown; path?: unknown }).host : typeof args[1] === 'string' ? args[1] : undefined;
  const isPipe = typeof first === 'object' && first !== null && 'path' in first && (first as { path?: unknown }).path !== undefined;
  if (!isPipe && host !== undefined && !loopback(host)) {
    const err = Object.assign(new Error(`connect ENETUNREACH ${String(host)} (the bench allows loopback only)`), { code: 'ENETUNREACH' });
    process.nextTick(() => this.destroy(err));
    return this;
  }
  return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;
