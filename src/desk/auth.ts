import { randomBytes, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { Db } from '../store/db.js';

/**
 * Sign-in for the web desk: users are name → bcrypt hash (ADMIN_USERS, or `admin` with ADMIN_PASSWORD
 * hashed once at start), sessions live in the database (`desk_sessions`, migration 011_desk) and expire,
 * each with its own CSRF token. Login attempts are limited per IP and per user name in memory, in fixed
 * windows, with the maps bounded so a flood of names cannot grow them without end.
 */

export interface DeskUser {
  name: string;
  hash: string;
}

export interface Session {
  id: string;
  user: string;
  csrf: string;
  expiresAt: Date;
}

/** The users the desk accepts, or an empty list (the desk is off). */
export function deskUsers(desk: { users: DeskUser[]; password: string | null }): DeskUser[] {
  if (desk.users.length) return desk.users;
  if (desk.password) return [{ name: 'admin', hash: bcrypt.hashSync(desk.password, 10) }];
  return [];
}

export function hashPassword(password: string, rounds = 12): string {
  return bcrypt.hashSync(password, rounds);
}

// Compared against when the user name is unknown, so a wrong name costs the same time as a wrong password.
const DUMMY_HASH = bcrypt.hashSync('manchete-no-such-user', 10);

export async function checkPassword(users: DeskUser[], name: string, password: string): Promise<DeskUser | null> {
  const user = users.find((u) => u.name === name);
  const ok = await bcrypt.compare(password.slice(0, 200), user?.hash ?? DUMMY_HASH);
  return ok && user ? user : null;
}

const token = () => randomBytes(32).toString('base64url');

export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

export class SessionStore {
  constructor(
    private readonly db: Db,
    private readonly ttlMs: number,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async create(user: string): Promise<Session> {
    const now = this.clock();
    const s: Session = { id: token(), user, csrf: token(), expiresAt: new Date(now.getTime() + this.ttlMs) };
    // Expired sessions go when a new one starts: the table holds only live ones (and a few stale).
    await this.db.deleteFrom('desk_sessions').where('expires_at', '<', now.toISOString()).execute();
    await this.db.insertInto('desk_sessions').values({ id: s.id, user_name: user, csrf: s.csrf, created_at: now.toISOString(), expires_at: s.expiresAt.toISOString() }).execute();
    return s;
  }

  async get(id: string | undefined): Promise<Session | null> {
    if (!id || id.length > 100) return null;
    const row = await this.db.selectFrom('desk_sessions').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return null;
    if (Date.parse(row.expires_at) <= this.clock().getTime()) {
      await this.db.deleteFrom('desk_sessions').where('id', '=', id).execute();
      return null;
    }
    return { id: row.id, user: row.user_name, csrf: row.csrf, expiresAt: new Date(row.expires_at) };
  }

  async end(id: string): Promise<void> {
    await this.db.deleteFrom('desk_sessions').where('id', '=', id).execute();
  }
}

/** Fixed-window attempt counter per key (an IP, a user name), bounded to `maxKeys` entries. */
export class AttemptLimiter {
  private readonly hits = new Map<string, { count: number; resetAt: number }>();

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
    private readonly maxKeys = 10_000,
    private readonly clock: () => number = Date.now,
  ) {}

  /** True when another attempt is allowed now (and counts it). */
  take(key: string): boolean {
    const now = this.clock();
    let h = this.hits.get(key);
    if (!h || h.resetAt <= now) {
      if (!h && this.hits.size >= this.maxKeys) {
        for (const [k, v] of this.hits) if (v.resetAt <= now) this.hits.delete(k);
        if (this.hits.size >= this.maxKeys) this.hits.delete(this.hits.keys().next().value!);
      }
      h = { count: 0, resetAt: now + this.windowMs };
      this.hits.set(key, h);
    }
    h.count++;
    return h.count <= this.max;
  }

  reset(key: string): void {
    this.hits.delete(key);
  }
}
