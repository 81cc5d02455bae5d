import { say, matchByName, type CommandEnv, type CommandSpec, type Ctx } from './context.js';
import { foldAlert } from '../delivery/alerts.js';
import {
  addAlert,
  alertsOf,
  MAX_ALERT_CHARS,
  MAX_ALERTS,
  removeAlert,
  addSubscription,
  clearSubscriptions,
  removeSubscription,
  subscriberIdFor,
  subscriptionsOf,
  upsertSubscriber,
} from './repo.js';
import { foldTopic, truncateEcho, type ParsedCommand } from './text.js';
import type { Reply } from './types.js';

/**
 * What anyone may type: /start, /help, /latest, /topics, /subscribe, /unsubscribe, /stop. Subscriptions
 * live in the database (repo.ts); topics and headlines come from the services. The order of SUBSCRIBER_COMMANDS
 * is the order of the platform menu.
 */

/** A topic as the commands compare it: folded key, display label. */
interface TopicEntry {
  key: string;
  label: string;
}

async function loadTopics(env: CommandEnv): Promise<TopicEntry[]> {
  const seen = new Map<string, TopicEntry>();
  for (const t of await env.services.topics.topics()) {
    const key = foldTopic(t.key);
    if (key !== '' && !seen.has(key)) seen.set(key, { key, label: t.label.trim() || key });
  }
  return [...seen.values()];
}

const topicNames = (topics: readonly TopicEntry[]): string => topics.map((t) => t.label).join(', ') || '—';

/** A topic from what the user typed, or the reply explaining why none matched. */
function resolveTopic(ctx: Ctx, input: string, topics: readonly TopicEntry[]): { topic: TopicEntry } | { reply: Reply } {
  const m = matchByName(input, topics, (t) => [t.key, t.label]);
  if (m.kind === 'ok') return { topic: m.item };
  if (m.kind === 'ambiguous')
    return { reply: say(ctx.t('topic.ambiguous', { input: truncateEcho(input), matches: topicNames(m.items) })) };
  return { reply: say(ctx.t('topic.unknown', { input: truncateEcho(input), topics: topicNames(topics) })) };
}

async function start(env: CommandEnv, ctx: Ctx, cmd: ParsedCommand): Promise<Reply[]> {
  const topics = await loadTopics(env);
  const vars = { topics: topicNames(topics), example: topics[0]?.key ?? 'mundo' };
  if (!ctx.isPrivate) return [say(ctx.t('welcome.group', vars))];
  const id = await upsertSubscriber(env.db, { platform: ctx.platform, chatId: ctx.chatId, locale: ctx.locale, name: ctx.senderName }, ctx.now);
  let text = ctx.t('welcome', vars);
  // A deep link (`t.me/bot?start=mundo`) arrives as `/start mundo`: subscribe when it names a topic.
  if (cmd.rest !== '') {
    const m = matchByName(cmd.rest, topics, (t) => [t.key, t.label]);
    if (m.kind === 'ok') {
      await addSubscription(env.db, id, m.item.key, ctx.now);
      text += `\n\n${ctx.t('welcome.subscribed', { topic: m.item.label })}`;
    }
  }
  return [say(text)];
}

function help(_env: CommandEnv, ctx: Ctx): Reply[] {
  const text = ctx.t('help.subscriber');
  return [say(ctx.editorId ? `${text}\n\n${ctx.t('help.editor')}` : text)];
}

async function listTopics(env: CommandEnv, ctx: Ctx): Promise<Reply[]> {
  const topics = await loadTopics(env);
  const mine = ctx.isPrivate ? new Set(await subscriptionsOf(env.db, subscriberIdFor(ctx.platform, ctx.chatId))) : new Set<string>();
  // Topics the user still holds but no feed carries any more stay visible, so they can be cancelled.
  const all = [...topics, ...[...mine].filter((k) => !topics.some((t) => t.key === k)).map((k) => ({ key: k, label: k }))];
  if (all.length === 0) return [say(ctx.t('topics.none'))];
  const lines = [ctx.t('topics.header')];
  for (const t of all) lines.push(ctx.t(mine.has(t.key) ? 'topics.on' : 'topics.off', { label: t.label, key: t.key }));
  lines.push('', ctx.t('topics.footer'));
  return [say(lines.join('\n'))];
}

async function subscribe(env: CommandEnv, ctx: Ctx, cmd: ParsedCommand): Promise<Reply[]> {
  const topics = await loadTopics(env);
  if (cmd.rest === '') return [say(ctx.t('subscribe.usage', { topics: topicNames(topics) }))];
  const r = resolveTopic(ctx, cmd.rest, topics);
  if ('reply' in r) return [r.reply];
  const id = await upsertSubscriber(env.db, { platform: ctx.platform, chatId: ctx.chatId, locale: ctx.locale, name: ctx.senderName }, ctx.now);
  const added = await addSubscription(env.db, id, r.topic.key, ctx.now);
  return [say(ctx.t(added ? 'subscribe.ok' : 'subscribe.already', { topic: r.topic.label, key: r.topic.key }))];
}

async function unsubscribe(env: CommandEnv, ctx: Ctx, cmd: ParsedCommand): Promise<Reply[]> {
  const id = subscriberIdFor(ctx.platform, ctx.chatId);
  const mine = await subscriptionsOf(env.db, id);
  const alerts = await alertsOf(env.db, id);
  const topics = await loadTopics(env);
  const known = [...topics, ...mine.filter((k) => !topics.some((t) => t.key === k)).map((k) => ({ key: k, label: k }))];
  const label = (k: string) => known.find((t) => t.key === k)?.label ?? k;
  if (cmd.rest === '') return [say(ctx.t('unsubscribe.usage', { topics: [...mine.map(label), ...alerts.map((a) => `"${a.phrase}"`)].join(', ') || '—' }))];
  // An alert is named by its words exactly (without accents or case); anything else is a topic.
  const folded = foldAlert(cmd.rest.replace(/^["“]|["”]$/g, ''));
  const alert = alerts.find((a) => a.folded === folded);
  if (alert && !mine.includes(folded)) {
    await removeAlert(env.db, id, alert.folded);
    return [say(ctx.t('alert.removed', { alert: alert.phrase }))];
  }
  const r = resolveTopic(ctx, cmd.rest, known);
  if ('reply' in r) return [r.reply];
  const removed = await removeSubscription(env.db, id, r.topic.key);
  return [say(ctx.t(removed ? 'unsubscribe.ok' : 'unsubscribe.notSubscribed', { topic: r.topic.label, key: r.topic.key }))];
}

/** Cleans what a subscriber typed as an alert: trimmed, single spaces, no surrounding quotes. */
function cleanAlert(text: string): string {
  return text.replace(/\s+/g, ' ').trim().replace(/^["“](.*)["”]$/, '$1').trim();
}

async function alert(env: CommandEnv, ctx: Ctx, cmd: ParsedCommand): Promise<Reply[]> {
  const phrase = cleanAlert(cmd.rest);
  if (phrase === '') return [say(ctx.t('alert.usage', { max: MAX_ALERT_CHARS }))];
  if ([...phrase].length > MAX_ALERT_CHARS) return [say(ctx.t('alert.tooLong', { max: MAX_ALERT_CHARS, length: [...phrase].length }))];
  const folded = foldAlert(phrase);
  if (folded === '') return [say(ctx.t('alert.noWords', { input: truncateEcho(phrase) }))];
  const id = await upsertSubscriber(env.db, { platform: ctx.platform, chatId: ctx.chatId, locale: ctx.locale, name: ctx.senderName }, ctx.now);
  const result = await addAlert(env.db, id, phrase, folded, ctx.now);
  if (result === 'limit') return [say(ctx.t('alert.limit', { max: MAX_ALERTS }))];
  return [say(ctx.t(result === 'added' ? 'alert.added' : 'alert.already', { alert: phrase }))];
}

async function listAlerts(env: CommandEnv, ctx: Ctx): Promise<Reply[]> {
  const id = subscriberIdFor(ctx.platform, ctx.chatId);
  const topics = await loadTopics(env);
  const mine = await subscriptionsOf(env.db, id);
  const alerts = await alertsOf(env.db, id);
  if (mine.length === 0 && alerts.length === 0) return [say(ctx.t('alerts.none'))];
  const label = (k: string) => topics.find((t) => t.key === k)?.label ?? k;
  const lines = [ctx.t('alerts.topics', { topics: mine.map(label).join(', ') || '—' })];
  lines.push(ctx.t('alerts.header', { count: alerts.length, max: MAX_ALERTS }));
  for (const a of alerts) lines.push(`• ${a.phrase}`);
  lines.push('', ctx.t('alerts.footer'));
  return [say(lines.join('\n'))];
}

async function stop(env: CommandEnv, ctx: Ctx): Promise<Reply[]> {
  const count = await clearSubscriptions(env.db, subscriberIdFor(ctx.platform, ctx.chatId), ctx.now);
  return [say(ctx.t(count > 0 ? 'stop.ok' : 'stop.nothing', { count }))];
}

async function latest(env: CommandEnv, ctx: Ctx, cmd: ParsedCommand): Promise<Reply[]> {
  let topic: TopicEntry | null = null;
  if (cmd.rest !== '') {
    const r = resolveTopic(ctx, cmd.rest, await loadTopics(env));
    if ('reply' in r) return [r.reply];
    topic = r.topic;
  }
  const articles = await env.services.latest.latest(topic?.key ?? null, env.latestCount);
  if (articles.length === 0) return [say(topic ? ctx.t('latest.emptyTopic', { topic: topic.label }) : ctx.t('latest.empty'))];
  const lines = [topic ? ctx.t('latest.headerTopic', { topic: topic.label }) : ctx.t('latest.header')];
  articles.slice(0, env.latestCount).forEach((a, i) => {
    lines.push(ctx.t('latest.item', { n: i + 1, title: truncateEcho(a.title, 200), url: a.url, section: a.section ?? '' }));
  });
  return [say(lines.join('\n'))];
}

/** The subscriber commands, in menu order. */
export const SUBSCRIBER_COMMANDS: readonly CommandSpec[] = [
  { id: 'latest', names: { 'pt-BR': 'ultimas', en: 'latest' }, access: 'subscriber', privateOnly: false, menu: 'menu.latest', run: latest },
  { id: 'topics', names: { 'pt-BR': 'temas', en: 'topics' }, access: 'subscriber', privateOnly: false, menu: 'menu.topics', run: listTopics },
  { id: 'subscribe', names: { 'pt-BR': 'assinar', en: 'subscribe' }, access: 'subscriber', privateOnly: true, menu: 'menu.subscribe', run: subscribe },
  { id: 'unsubscribe', names: { 'pt-BR': 'cancelar', en: 'unsubscribe' }, access: 'subscriber', privateOnly: true, menu: 'menu.unsubscribe', run: unsubscribe },
  { id: 'alert', names: { 'pt-BR': 'alerta', en: 'alert' }, access: 'subscriber', privateOnly: true, menu: 'menu.alert', run: alert },
  { id: 'alerts', names: { 'pt-BR': 'alertas', en: 'alerts' }, access: 'subscriber', privateOnly: true, menu: 'menu.alerts', run: listAlerts },
  { id: 'stop', names: { 'pt-BR': 'sair', en: 'stop' }, access: 'subscriber', privateOnly: true, menu: 'menu.stop', run: stop },
  { id: 'help', names: { 'pt-BR': 'ajuda', en: 'help' }, access: 'subscriber', privateOnly: false, menu: 'menu.help', run: help },
  { id: 'start', names: { 'pt-BR': 'iniciar', en: 'start' }, access: 'subscriber', privateOnly: false, menu: 'menu.start', run: start },
];
