import { storableText, type Db } from '../store/db.js';
import type { Platform } from '../render/types.js';
import { foldTopic, type Locale } from './text.js';

/**
 * The command side of the database: subscribers and their topics, the audit log of editor actions, and
 * the pause switch. Only kysely's query builder with portable constructs (`on conflict`, `in`, joins),
 * so the same code runs on SQLite and PostgreSQL. Times are stored as ISO-8601 UTC strings.
 */

/** The subscriber id for a private chat: `telegram:<chat id>` or `whatsapp:<jid>`. */
export function subscriberIdFor(platform: Platform, chatId: string): string {
  return `${platform}:${chatId}`;
}

/** A subscriber as the rest of Manchete reads it. */
export interface Subscriber {
  id: string;
  platform: Platform;
  chatId: string;
  locale: Locale;
  active: boolean;
  name: string | null;
}

const asLocale = (s: string): Locale => (s === 'en' ? 'en' : 'pt-BR');
const asPlatform = (s: string): Platform => (s === 'whatsapp' ? 'whatsapp' : 'telegram');

/**
 * Creates the subscriber, or refreshes its locale and name and marks it active again (a `/start` after
 * `/stop` or after the user unblocked the bot). Returns its id.
 */
export async function upsertSubscriber(
  db: Db,
  s: { platform: Platform; chatId: string; locale: Locale; name: string | null },
  now: Date,
): Promise<string> {
  const id = subscriberIdFor(s.platform, s.chatId);
  const at = now.toISOString();
  const name = storableText(s.name);
  await db
    .insertInto('subscribers')
    .values({
      id,
      platform: s.platform,
      chat_id: s.chatId,
      locale: s.locale,
      active: 1,
      name,
      created_at: at,
      updated_at: at,
    })
    .onConflict((oc) => oc.column('id').doUpdateSet({ locale: s.locale, name, active: 1, updated_at: at }))
    .execute();
  return id;
}

/** The subscriber with this id, or null. */
export async function getSubscriber(db: Db, subscriberId: string): Promise<Subscriber | null> {
  const row = await db.selectFrom('subscribers').selectAll().where('id', '=', subscriberId).executeTakeFirst();
  if (!row) return null;
  return {
    id: row.id,
    platform: asPlatform(row.platform),
    chatId: row.chat_id,
    locale: asLocale(row.locale),
    active: row.active === 1,
    name: row.name,
  };
}

/** The folded topic keys a subscriber has, sorted. */
export async function subscriptionsOf(db: Db, subscriberId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('subscriptions')
    .select('topic')
    .where('subscriber_id', '=', subscriberId)
    .orderBy('topic')
    .execute();
  return rows.map((r) => r.topic);
}

/** Adds one topic (folded here). Returns false when the subscriber already had it. */
export async function addSubscription(db: Db, subscriberId: string, topic: string, now: Date): Promise<boolean> {
  const key = foldTopic(topic);
  const existing = await db
    .selectFrom('subscriptions')
    .select('topic')
    .where('subscriber_id', '=', subscriberId)
    .where('topic', '=', key)
    .executeTakeFirst();
  if (existing) return false;
  await db
    .insertInto('subscriptions')
    .values({ subscriber_id: subscriberId, topic: key, created_at: now.toISOString() })
    .onConflict((oc) => oc.columns(['subscriber_id', 'topic']).doNothing())
    .execute();
  return true;
}

/** Removes one topic (folded here). Returns false when the subscriber did not have it. */
export async function removeSubscription(db: Db, subscriberId: string, topic: string): Promise<boolean> {
  const result = await db
    .deleteFrom('subscriptions')
    .where('subscriber_id', '=', subscriberId)
    .where('topic', '=', foldTopic(topic))
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** At most this many keyword alerts per subscriber. */
export const MAX_ALERTS = 20;
/** An alert is at most this many characters (after trimming and collapsing spaces). */
export const MAX_ALERT_CHARS = 60;

/** A subscriber's keyword alerts as typed, oldest first. */
export async function alertsOf(db: Db, subscriberId: string): Promise<{ phrase: string; folded: string }[]> {
  return db
    .selectFrom('subscriber_alerts')
    .select(['phrase', 'folded'])
    .where('subscriber_id', '=', subscriberId)
    .orderBy('created_at')
    .orderBy('folded')
    .execute();
}

/**
 * Adds an alert (`folded` as `foldAlert` makes it). `'limit'` when the subscriber already has MAX_ALERTS,
 * `'already'` when they have this one; `'added'` otherwise.
 */
export async function addAlert(db: Db, subscriberId: string, phrase: string, folded: string, now: Date): Promise<'added' | 'already' | 'limit'> {
  return db.transaction().execute(async (tx) => {
    const mine = await tx.selectFrom('subscriber_alerts').select('folded').where('subscriber_id', '=', subscriberId).execute();
    if (mine.some((a) => a.folded === folded)) return 'already';
    if (mine.length >= MAX_ALERTS) return 'limit';
    await tx
      .insertInto('subscriber_alerts')
      .values({ subscriber_id: subscriberId, phrase, folded, created_at: now.toISOString() })
      .onConflict((oc) => oc.columns(['subscriber_id', 'folded']).doNothing())
      .execute();
    await bumpAlertsVersion(tx, now);
    return 'added';
  });
}

/** Removes one alert by its folded form. Returns false when the subscriber did not have it. */
export async function removeAlert(db: Db, subscriberId: string, folded: string, now: Date = new Date()): Promise<boolean> {
  const result = await db.deleteFrom('subscriber_alerts').where('subscriber_id', '=', subscriberId).where('folded', '=', folded).executeTakeFirst();
  const removed = Number(result.numDeletedRows) > 0;
  if (removed) await bumpAlertsVersion(db, now);
  return removed;
}

/**
 * `/stop`: removes every topic and marks the subscriber inactive, in one transaction. Returns how many
 * topics were removed.
 */
export async function clearSubscriptions(db: Db, subscriberId: string, now: Date): Promise<number> {
  return db.transaction().execute(async (tx) => {
    const result = await tx.deleteFrom('subscriptions').where('subscriber_id', '=', subscriberId).executeTakeFirst();
    const alerts = await tx.deleteFrom('subscriber_alerts').where('subscriber_id', '=', subscriberId).executeTakeFirst();
    if (Number(alerts.numDeletedRows) > 0) await bumpAlertsVersion(tx, now);
    await tx
      .updateTable('subscribers')
      .set({ active: 0, updated_at: now.toISOString() })
      .where('id', '=', subscriberId)
      .execute();
    return Number(result.numDeletedRows) + Number(alerts.numDeletedRows);
  });
}

/**
 * Marks a subscriber inactive, keeping their topics: what the delivery side does when the platform says
 * the user blocked the bot (Telegram 403). A later `/start` reactivates them with the same topics.
 * Returns false when there is no such subscriber.
 */
export async function deactivateSubscriber(db: Db, subscriberId: string, now: Date = new Date()): Promise<boolean> {
  const result = await db
    .updateTable('subscribers')
    .set({ active: 0, updated_at: now.toISOString() })
    .where('id', '=', subscriberId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

// Routing's subscriber query lives with the store; the command side re-exports it.
export { subscribersForTopics, type SubscriberTarget } from '../store/subscribers.js';
import { bumpAlertsVersion } from '../store/subscribers.js';

/** One line of the audit log: who did what, to what, and how it ended. */
export interface AuditEntry {
  /** `telegram:12345`, `whatsapp:5511999998888`, `telegram:unknown` when the platform gave no sender. */
  actor: string;
  /** The command: `push`, `push.confirm`, `pause`, `status`… */
  action: string;
  /** Free text or JSON with the arguments (URL, destinations, code). */
  detail: string | null;
  /** `ok`, `refused`, `invalid`, `failed`, `cancelled`, `expired`… */
  outcome: string;
  /** The article the action is about (a push), when there is one. */
  articleId?: string | null;
}

/** Appends to the audit log. */
export async function writeAudit(db: Db, entry: AuditEntry, now: Date): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      actor: entry.actor,
      action: entry.action,
      detail: storableText(entry.detail),
      outcome: entry.outcome,
      article_id: entry.articleId ?? null,
      created_at: now.toISOString(),
    })
    .execute();
}

/** The most recent audit entries, newest first. */
export async function recentAudit(db: Db, limit = 50): Promise<(AuditEntry & { at: Date })[]> {
  const rows = await db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => ({ actor: r.actor, action: r.action, detail: r.detail, outcome: r.outcome, articleId: r.article_id, at: new Date(r.created_at) }));
}

/** The settings key of the pause switch. */
export const PAUSE_KEY = 'posting.paused';

/** Whether automatic posting is paused, and who flipped the switch last and when (null if never). */
export interface PauseState {
  paused: boolean;
  by: string | null;
  at: Date | null;
}

/**
 * Reads the pause switch. The scheduler/dispatcher checks this before routing feed articles; editor
 * pushes ignore it.
 */
export async function getPauseState(db: Db): Promise<PauseState> {
  const row = await db.selectFrom('settings').selectAll().where('key', '=', PAUSE_KEY).executeTakeFirst();
  if (!row) return { paused: false, by: null, at: null };
  return { paused: row.value === 'true', by: row.updated_by, at: new Date(row.updated_at) };
}

/** Sets the pause switch, recording who and when. */
export async function setPaused(db: Db, paused: boolean, actor: string, now: Date): Promise<void> {
  const at = now.toISOString();
  const value = paused ? 'true' : 'false';
  await db
    .insertInto('settings')
    .values({ key: PAUSE_KEY, value, updated_by: actor, updated_at: at })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_by: actor, updated_at: at }))
    .execute();
}
