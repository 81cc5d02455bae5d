import type { Db } from './db.js';
import type { Platform } from '../render/types.js';
import type { Locale } from '../commands/text.js';
import { foldTopic } from '../articles/fold.js';

/**
 * The subscriber queries routing needs (delivery/routing.ts): who, among private chats, follows an
 * article's topics. The command side (commands/repo.ts) writes subscribers and re-exports these. Only
 * kysely's portable constructs, so the same query runs on SQLite and PostgreSQL.
 */

const asLocale = (s: string): Locale => (s === 'en' ? 'en' : 'pt-BR');

/** A private chat that should receive an article, with the language to render it in. */
export interface SubscriberTarget {
  id: string;
  platform: Platform;
  chatId: string;
  locale: Locale;
}

/**
 * Routing: the active subscribers of `platform` who follow any of `topicKeys` (folded here, so a raw
 * section name such as `Política` works), each once, ordered by id.
 */
export async function subscribersForTopics(
  db: Db,
  platform: Platform,
  topicKeys: readonly string[],
): Promise<SubscriberTarget[]> {
  const keys = [...new Set(topicKeys.map(foldTopic).filter((k) => k !== ''))];
  if (keys.length === 0) return [];
  const rows = await db
    .selectFrom('subscribers')
    .innerJoin('subscriptions', 'subscriptions.subscriber_id', 'subscribers.id')
    .select(['subscribers.id as id', 'subscribers.chat_id as chat_id', 'subscribers.locale as locale'])
    .distinct()
    .where('subscribers.platform', '=', platform)
    .where('subscribers.active', '=', 1)
    .where('subscriptions.topic', 'in', keys)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ id: r.id, platform, chatId: r.chat_id, locale: asLocale(r.locale) }));
}

/** A keyword alert of an active private subscriber, with where to send what it matches. */
export interface AlertSubscriber extends SubscriberTarget {
  /** The alert, folded (see `SubscriberAlertTable.folded`). */
  folded: string;
}

/** Routing: every keyword alert of the active subscribers of `platform`, in one query, ordered by subscriber. */
export async function alertsForPlatform(db: Db, platform: Platform): Promise<AlertSubscriber[]> {
  const rows = await db
    .selectFrom('subscriber_alerts')
    .innerJoin('subscribers', 'subscribers.id', 'subscriber_alerts.subscriber_id')
    .select(['subscribers.id as id', 'subscribers.chat_id as chat_id', 'subscribers.locale as locale', 'subscriber_alerts.folded as folded'])
    .where('subscribers.platform', '=', platform)
    .where('subscribers.active', '=', 1)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ id: r.id, platform, chatId: r.chat_id, locale: asLocale(r.locale), folded: r.folded }));
}

/** The settings key whose value changes with every alert added or removed (see `alertsVersion`). */
export const ALERTS_VERSION_KEY = 'alerts.version';

/** Marks the alerts as changed, so routing reloads them (call it in the transaction that changed them). */
export async function bumpAlertsVersion(db: Db, now: Date): Promise<void> {
  const at = now.toISOString();
  const value = `${at}#${Math.random().toString(36).slice(2, 10)}`;
  await db
    .insertInto('settings')
    .values({ key: ALERTS_VERSION_KEY, value, updated_by: null, updated_at: at })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: at }))
    .execute();
}

/** The alerts' current version (a primary-key read): routing keeps its loaded alerts while it stays the same. */
export async function alertsVersion(db: Db): Promise<string | null> {
  const row = await db.selectFrom('settings').select('value').where('key', '=', ALERTS_VERSION_KEY).executeTakeFirst();
  return row?.value ?? null;
}
