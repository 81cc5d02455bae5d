import type { Logger } from '../log.js';
import type { Db } from '../store/db.js';
import type { DestinationRecord } from './destinations.js';
import { PRIORITY, type QueueEntry } from './outbox.js';

/**
 * Hourly caps (`maxPerHour: N` in the routes file): at most N automatic posts to a destination in any
 * rolling hour. Automatic posts are articles the feeds brought (`kind = article` below push priority);
 * pushes, edits, replies and digests are neither held nor counted (a digest is where a capped
 * destination's overflow goes).
 *
 * Two places apply it, one rule each:
 * - routing (`full`), for a destination with digests (`mode: both`): an article that would not fit is not
 *   queued live at all; it is collected, so it arrives in the next digest. The count includes what is
 *   queued and not yet sent, so the rows queued live can never make more than N sends in any hour.
 * - the dispatcher (`holdFor`), for a destination without digests: its next row waits until the oldest
 *   send leaves the window. The row stays at the head of its chat, so nothing is dropped or reordered.
 */

export const HOUR_MS = 3_600_000;

/** Whether a queued row is an automatic post (what caps count and hold). */
export const isAutomaticPost = (row: { kind: string; priority: number }): boolean => row.kind === 'article' && row.priority < PRIORITY.push;

export class HourlyCaps {
  /** Send times (ms) of automatic posts within the window, oldest first, per destination id. */
  private readonly sends = new Map<string, number[]>();
  /** Destinations whose hold was logged since their last send (one line per full window, not per pass). */
  private readonly logged = new Set<string>();
  readonly windowMs: number;

  constructor(private readonly o: { db: Db; logger: Logger; windowMs?: number; clock?: () => number }) {
    this.windowMs = o.windowMs ?? HOUR_MS;
  }

  /** Reads the sends of the last window from the outbox (at start: a restart does not reset a cap). */
  async load(now = (this.o.clock ?? Date.now)()): Promise<void> {
    const rows = await this.o.db
      .selectFrom('deliveries')
      .select(['destination_id', 'sent_at'])
      .where('kind', '=', 'article')
      .where('priority', '<', PRIORITY.push)
      .where('status', '=', 'sent')
      .where('sent_at', '>=', new Date(now - this.windowMs).toISOString())
      .orderBy('sent_at')
      .execute();
    this.sends.clear();
    for (const r of rows) if (r.sent_at) this.push(r.destination_id, Date.parse(r.sent_at));
  }

  private push(destinationId: string, at: number): void {
    const list = this.sends.get(destinationId) ?? [];
    list.push(at);
    this.sends.set(destinationId, list);
  }

  private window(destinationId: string, now: number): number[] {
    const list = this.sends.get(destinationId);
    if (!list) return [];
    while (list.length && list[0]! <= now - this.windowMs) list.shift();
    if (!list.length) this.sends.delete(destinationId);
    return list;
  }

  /**
   * The dispatcher's hook: how long (ms) this row must wait for its destination's cap; 0 when it may go.
   * Only automatic posts to destinations with `maxPerHour` wait.
   */
  holdFor(row: QueueEntry, dest: DestinationRecord, now: number): number {
    const max = dest.options.maxPerHour;
    if (!max || !isAutomaticPost(row)) return 0;
    const list = this.window(dest.id, now);
    if (list.length < max) return 0;
    const wait = Math.max(1, list[list.length - max]! + this.windowMs - now);
    if (!this.logged.has(dest.id)) {
      this.logged.add(dest.id);
      this.o.logger.info(
        { event: 'delivery.capped', destination: dest.id, maxPerHour: max, to: 'later', waitMs: wait },
        `${dest.id} posted ${max} articles within the hour (maxPerHour ${max}); its next article waits ${Math.ceil(wait / 60_000)} min, in order`,
      );
    }
    return wait;
  }

  /** The dispatcher's outcome hook: a sent automatic post enters its destination's window. */
  sent(row: { destination_id: string; kind: string; priority: number }, at: number): void {
    if (!isAutomaticPost(row)) return;
    this.push(row.destination_id, at);
    this.logged.delete(row.destination_id);
  }

  /**
   * Routing's question for a destination with digests: is its window full, counting the automatic posts
   * sent within it and those queued and not sent yet? Then the article goes to the digest only.
   */
  async full(destinationId: string, max: number, now: number): Promise<boolean> {
    const since = new Date(now - this.windowMs).toISOString();
    const row = await this.o.db
      .selectFrom('deliveries')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('destination_id', '=', destinationId)
      .where('kind', '=', 'article')
      .where('priority', '<', PRIORITY.push)
      .where((eb) => eb.or([eb('status', 'in', ['pending', 'sending']), eb.and([eb('status', '=', 'sent'), eb('sent_at', '>=', since)])]))
      .executeTakeFirst();
    return Number(row?.n ?? 0) >= max;
  }
}
