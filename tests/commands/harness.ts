import { resolve } from 'node:path';
import { Writable } from 'node:stream';
import type { Article } from '../../src/articles/article.js';
import type { Editor } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { createCommandRouter, type CommandRouter } from '../../src/commands/router.js';
import {
  PushPrepareError,
  type ChatRef,
  type CommandServices,
  type PushDestination,
  type PushPreview,
  type PushProgressListener,
  type PushRequester,
  type StatusReport,
} from '../../src/commands/services.js';
import type { Locale } from '../../src/commands/text.js';
import type { IncomingAction, IncomingMessage, Reply } from '../../src/commands/types.js';
import { openStore, type Store } from '../../src/store/db.js';
import { foldTopic } from '../../src/commands/text.js';

/** A router over a real in-memory SQLite database and fake services that record their calls. */

export const T0 = new Date('2025-03-10T15:00:00Z');

export const TOPICS = [
  { key: 'mundo', label: 'Mundo' },
  { key: 'politica', label: 'Política' },
  { key: 'economia', label: 'Economia' },
  { key: 'esportes', label: 'Esportes' },
  { key: 'eleicoes', label: 'Eleições' },
];

export const DESTINATIONS: PushDestination[] = [
  { id: 'telegram:@manchete', label: '@manchete' },
  { id: 'telegram:-1001234', label: 'Grupo da Redação' },
  { id: 'whatsapp:120363@g.us', label: 'Comunidade Manchete' },
];

export const EDITORS: Editor[] = [
  { platform: 'telegram', id: '42' },
  { platform: 'whatsapp', id: '5511999998888' },
  { platform: 'telegram', id: '43' },
];

export function article(i: number, section: string): Article {
  return {
    id: `a${i}`,
    url: `https://site.example/${i}`,
    title: `Manchete ${i} de ${section}`,
    lead: '',
    body: '',
    section,
    tags: [],
    imageUrl: null,
    imageCaption: null,
    imageCredit: null,
    author: null,
    publishedAt: new Date(T0.getTime() - i * 60_000),
    updatedAt: null,
    feedUrl: 'https://site.example/feed',
  };
}

export const ARTICLES: Article[] = [
  article(1, 'Mundo'),
  article(2, 'Política'),
  article(3, 'Mundo'),
  article(4, 'Economia'),
  article(5, 'Política'),
  article(6, 'Mundo'),
  article(7, 'Esportes'),
];

export interface EnqueueCall {
  preview: PushPreview;
  destinationIds: string[];
  requester: PushRequester;
  onProgress: PushProgressListener;
}

export interface Harness {
  router: CommandRouter;
  /** Another router over the same database and services: what a restart looks like. */
  makeRouter(): CommandRouter;
  store: Store;
  logs: Record<string, unknown>[];
  advance(ms: number): void;
  now(): Date;
  prepared: string[];
  enqueued: EnqueueCall[];
  notified: { chat: ChatRef; replies: Reply[] }[];
  lastPushed: Map<string, { at: Date; by: string }>;
  /** `/resumo` confirmations the digest service received. */
  digestsSent: { destinationId: string; cutoff: Date; actor: string }[];
  state: {
    status: StatusReport;
    topicsFail: boolean;
    enqueueFail: boolean;
    previewDestinations: PushDestination[];
    /** Destinations with digests, and how many articles wait for each one's next digest. */
    digest: { destinations: PushDestination[]; waiting: Record<string, number> };
  };
  /** A private message from a Telegram user (default: user 1001, Portuguese). */
  tg(text: string, over?: Partial<IncomingMessage>): Promise<Reply[]>;
  /** A private message from a WhatsApp user (no language code). */
  wa(text: string, over?: Partial<IncomingMessage>): Promise<Reply[]>;
  action(data: string, over?: Partial<IncomingAction>): Promise<Reply[]>;
  audit(): Promise<{ actor: string; action: string; detail: string | null; outcome: string }[]>;
  close(): Promise<void>;
}

export async function makeHarness(
  opts: { replyRate?: { count: number; perMs: number }; defaultLocale?: Locale; latestCount?: number } = {},
): Promise<Harness> {
  const store = await openStore('sqlite::memory:');
  let now = T0;
  let seq = 0;
  const logs: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const logger = createLogger({ level: 'debug' }, stream);
  const prepared: string[] = [];
  const enqueued: EnqueueCall[] = [];
  const notified: { chat: ChatRef; replies: Reply[] }[] = [];
  const lastPushed = new Map<string, { at: Date; by: string }>();
  const digestsSent: Harness['digestsSent'] = [];
  const state: Harness['state'] = {
    digest: { destinations: [DESTINATIONS[0]!, DESTINATIONS[2]!], waiting: {} },
    topicsFail: false,
    enqueueFail: false,
    previewDestinations: DESTINATIONS.slice(0, 2),
    status: { feeds: [], queues: [], lastSends: [], platforms: [] },
  };

  const services: CommandServices = {
    digest: {
      async destinations() {
        return state.digest.destinations;
      },
      async preview(id) {
        const destination = state.digest.destinations.find((d) => d.id === id)!;
        const waiting = state.digest.waiting[id] ?? 0;
        const articles = Math.min(waiting, 10);
        const lines = ARTICLES.slice(0, articles).map((a) => `• ${a.title}\n${a.url}`);
        return { destination, articles, waiting, text: articles ? `Resumo da manhã\n${lines.join('\n')}` : '', cutoff: now, nextAt: new Date(now.getTime() + 3 * 3_600_000) };
      },
      async send(destinationId, cutoff, actor) {
        digestsSent.push({ destinationId, cutoff, actor });
        const waiting = state.digest.waiting[destinationId] ?? 0;
        if (!waiting) return null;
        state.digest.waiting[destinationId] = 0;
        return { articles: Math.min(waiting, 10) };
      },
    },
    topics: {
      async topics() {
        if (state.topicsFail) throw new Error('routes file unreadable');
        return TOPICS;
      },
    },
    latest: {
      async latest(topicKey, n) {
        return ARTICLES.filter((a) => topicKey === null || foldTopic(a.section ?? '') === topicKey).slice(0, n);
      },
    },
    status: {
      async status() {
        return state.status;
      },
    },
    notifier: {
      async notify(chat, replies) {
        notified.push({ chat, replies });
      },
    },
    push: {
      async prepare(url) {
        prepared.push(url);
        if (url.includes('unreachable')) throw new PushPrepareError(url, 'the page answered HTTP 404');
        if (url.includes('explode')) throw new Error('socket hang up');
        const id = `push:${url}`;
        return {
          articleId: id,
          url,
          title: 'Kim diz que vai testar míssil',
          text: `MUNDO\nKim diz que vai testar míssil\nO líder da Coreia do Norte afirmou…\n${url}`,
          destinations: state.previewDestinations,
          article: { ...article(99, 'Mundo'), id, url },
        };
      },
      async enqueue(preview, destinationIds, requester, onProgress) {
        if (state.enqueueFail) throw new Error('database is locked');
        enqueued.push({ preview, destinationIds, requester, onProgress });
        return { id: `t${enqueued.length}`, total: destinationIds.length };
      },
      async lastPushed(articleId) {
        return lastPushed.get(articleId) ?? null;
      },
      async destinations() {
        return DESTINATIONS;
      },
    },
  };

  const makeRouter = () => createCommandRouter({
    db: store.db,
    services,
    editors: EDITORS,
    latestCount: opts.latestCount ?? 5,
    replyRate: opts.replyRate ?? { count: 1000, perMs: 60_000 },
    defaultLocale: opts.defaultLocale ?? 'pt-BR',
    localesDir: resolve(import.meta.dirname, '../../templates/locales'),
    clock: () => now,
    logger,
    botUsername: 'manchete_bot',
    timeZone: 'America/Sao_Paulo',
  });
  const router = makeRouter();

  const message = (base: IncomingMessage, over: Partial<IncomingMessage>): IncomingMessage => ({
    ...base,
    messageId: String(++seq),
    receivedAt: now,
    ...over,
  });

  return {
    router,
    makeRouter,
    store,
    logs,
    prepared,
    enqueued,
    notified,
    lastPushed,
    digestsSent,
    state,
    advance: (ms) => {
      now = new Date(now.getTime() + ms);
    },
    now: () => now,
    tg: (text, over = {}) =>
      router.handleMessage(
        message(
          {
            platform: 'telegram',
            chatId: '1001',
            chatType: 'private',
            senderId: '1001',
            senderName: 'Ana',
            languageCode: 'pt-br',
            text,
            messageId: '',
            addressedToBot: true,
            canShowButtons: true,
            receivedAt: now,
          },
          over,
        ),
      ),
    wa: (text, over = {}) =>
      router.handleMessage(
        message(
          {
            platform: 'whatsapp',
            chatId: '5511988887777@s.whatsapp.net',
            chatType: 'private',
            senderId: '5511988887777',
            senderName: 'Bia',
            languageCode: null,
            text,
            messageId: '',
            addressedToBot: true,
            canShowButtons: false,
            receivedAt: now,
          },
          over,
        ),
      ),
    action: (data, over = {}) =>
      router.handleAction({
        platform: 'telegram',
        chatId: '42',
        senderId: '42',
        languageCode: 'pt-br',
        data,
        messageId: String(++seq),
        receivedAt: now,
        ...over,
      }),
    audit: async () =>
      store.db.selectFrom('audit_log').select(['actor', 'action', 'detail', 'outcome']).orderBy('id').execute(),
    close: () => store.close(),
  };
}

/** The single reply's text; fails the test when there is not exactly one reply. */
export function only(replies: Reply[]): string {
  if (replies.length !== 1) throw new Error(`expected one reply, got ${replies.length}: ${JSON.stringify(replies)}`);
  return replies[0]!.text;
}
