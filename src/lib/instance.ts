import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * This process's one name, `host:pid:random`, made once at start and used wherever a row says who holds
 * it: the instance lock, delivery claims, the WhatsApp session lease. The random part matters in
 * containers, where two processes on different machines are both pid 1 on a host called after the
 * image: without it they would take back each other's rows.
 */
export interface InstanceId {
  id: string;
  host: string;
  pid: number;
}

export function makeInstanceId(o: { host?: string; pid?: number; random?: () => string } = {}): InstanceId {
  const host = o.host ?? hostname();
  const pid = o.pid ?? process.pid;
  const random = o.random ?? (() => randomBytes(6).toString('hex'));
  return { id: `${host}:${pid}:${random()}`, host, pid };
}
