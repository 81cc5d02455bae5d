import { randomBytes } from 'node:crypto';
import { Telegraf } from 'telegraf';
import type { Config } from '../../config.js';
import type { Logger } from '../../log.js';
import type { PlatformHost, PlatformModule } from '../types.js';
import { telegramPolicy, waitShared } from '../../delivery/pacer.js';
import { backoffMs } from '../../lib/backoff.js';
import type { Destination } from '../../delivery/types.js';
import type { RouteDestination } from '../../delivery/routes-file.js';
import { createTelegramBot, type TelegramBot } from './bot.js';
import { createBotApiTransport, createTelegramClient, telegrafTransport } from './client.js';
import { createPaidBroadcast } from './paid.js';
import { parseTelegramChats } from './destinations.js';
import { classifyTelegramError } from './errors.js';
import { createTelegramSender } from './sender.js';
import { UpdatesLease } from './updates-lease.js';
import { UpdateDedupe } from '../../store/update-dedupe.js';
import { PostgresBudget } from '../../store/rate-budget.js';

/**
 * Telegram as the app sees it: the sender and pacing for the dispatcher, the configured destinations,
 * and the bot that carries commands (long polling, or a webhook on the app's public HTTP listener).
 */
/** Sign-in retries when Telegram cannot be reached: 5 s doubling, at most 5 min. */
const SIGNIN_BACKOFF = { baseMs: 5_000, capMs: 300_000 };

export function createTelegramModule(
  config: Config,
  logger: Logger,
  routeDestinations: RouteDestination[],
  /** The jitter source for sign-in retries (tests pin it). */
  random: () => number = Math.random,
): PlatformModule {
  const configured = config.telegram.token;
  if (!configured) throw new Error('createTelegramModule needs TELEGRAM_BOT_TOKEN');
  const token: string = configured;
  const log = logger.child({ platform: 'telegram' });
  const telegraf = new Telegraf(token, { telegram: { apiRoot: config.telegram.apiRoot } });
  // Every call goes over one keep-alive connection pool; telegraf's client only for file uploads.
  const transport = createBotApiTransport({ apiRoot: config.telegram.apiRoot, token, fallback: telegrafTransport(telegraf.telegram) });
  const client = createTelegramClient({ transport, token });
  const paid = createPaidBroadcast(config.telegram.paidBroadcast);
  const sender = createTelegramSender({ telegram: telegraf, logger: log, token, client, paid });
  const pacing = telegramPolicy({
    maxPerSecond: config.telegram.maxPerSecond,
    chatGapMs: config.telegram.chatGapMs,
    groupPerMinute: config.telegram.groupPerMinute,
    ...(paid.active ? { paid: { maxPerSecond: config.telegram.paidMaxPerSecond, applies: (d: Destination) => paid.applies(d) } } : {}),
  });
  const destinations: Destination[] = parseTelegramChats(config.telegram.chats);
  for (const r of routeDestinations.filter((d) => d.platform === 'telegram')) {
    const [d] = parseTelegramChats([r.chat], r.options);
    const existing = destinations.findIndex((x) => x.id === d!.id);
    // The routes file's options win over a bare TELEGRAM_CHATS entry for the same chat.
    if (existing >= 0) destinations[existing] = d!;
    else destinations.push(d!);
  }
  let bot: TelegramBot | null = null;
  let state = 'stopped';
  const webhookSecret = config.telegram.webhookSecret ?? randomBytes(24).toString('base64url');

  let retryTimer: NodeJS.Timeout | null = null;
  let updatesLease: UpdatesLease | null = null;
  let attempts = 0;
  let stopped = false;

  /**
   * Signs in, checks the destinations and starts receiving commands. When Telegram cannot be reached it
   * tries again by itself (about 5 s, doubling, at most 5 min apart, jittered: lib/backoff.ts); meanwhile the sender reports not ready, so
   * deliveries wait in the outbox instead of spending their attempts. A refused token (401) is not retried.
   */
  async function connect(host: PlatformHost): Promise<void> {
    retryTimer = null;
    if (stopped) return;
    state = 'connecting';
    try {
      const me = await sender.me();
      log.info({ event: 'telegram.me', username: me.username }, `Telegram: signed in as @${me.username}`);
    } catch (err) {
      const e = classifyTelegramError(err, { token, method: 'getMe' });
      if (e.details.code === 401 || e.details.code === 'unauthorized') {
        state = 'unauthorized';
        host.print(`telegram: Telegram refused the token (${e.message}); set a valid TELEGRAM_BOT_TOKEN from @BotFather and restart. Deliveries wait in the outbox.`);
        log.error({ event: 'telegram.unauthorized', reason: e.message }, 'Telegram refused the bot token');
        return;
      }
      state = 'unreachable';
      const wait = backoffMs(++attempts, SIGNIN_BACKOFF, random);
      host.print(`telegram: cannot sign in (${e.message}); trying again in ${Math.round(wait / 1000)} s. Deliveries wait in the outbox.`);
      log.error({ event: 'telegram.signin_failed', reason: e.message, retryInMs: wait }, 'Telegram sign-in failed');
      retryTimer = setTimeout(() => void connect(host), wait);
      retryTimer.unref();
      return;
    }
    attempts = 0;
    for (const d of destinations) {
      const c = await sender.check(d);
      host.print(`${d.chatId}${d.threadId ? `:${d.threadId}` : ''}: ${c.message}`);
      if (c.title || c.kind) await host.destinations.describe(d.id, { title: c.title ?? null, kind: c.kind ?? null });
      if (c.gone) await host.destinations.markDead(d.id, c.message);
    }
    state = 'ready';
    host.wake();
    // Several instances may share a PostgreSQL database: updates are handled once whoever receives them,
    // replies draw on the bot's shared send budget, and only the lease holder long-polls.
    const shared = host.store.dialect === 'postgres';
    const dedupe = shared ? new UpdateDedupe(host.store.db) : null;
    const budget = shared ? new PostgresBudget(host.store.db, 'telegram') : null;
    const theBot = createTelegramBot({
      token,
      apiRoot: config.telegram.apiRoot,
      logger: log,
      telegraf,
      client,
      onMessage: (m) => host.router.handleMessage(m),
      onAction: (a) => host.router.handleAction(a),
      ...(dedupe ? { firstSeen: (id: number) => dedupe.first(id) } : {}),
      ...(budget
        ? {
            // A reply still goes when the database cannot give a slot (the local pacer keeps this process in bounds).
            beforeSend: () => waitShared(budget, pacing.globalGapMs).catch(() => undefined),
          }
        : {}),
    });
    bot = theBot;
    try {
      if (config.telegram.webhookUrl) {
        await theBot.start({ mode: 'webhook', url: config.telegram.webhookUrl, secret: webhookSecret });
        state = 'webhook';
      } else if (shared) {
        state = 'standby';
        updatesLease = new UpdatesLease({
          db: host.store.db,
          holder: host.instanceId,
          leaseMs: config.instanceLeaseMs,
          onAcquired: async () => {
            if (stopped) return;
            log.info({ event: 'telegram.updates_lease', held: true }, 'Telegram: this instance now receives the commands (long polling)');
            await theBot.start({ mode: 'polling' });
            state = 'polling';
          },
          onLost: async () => {
            log.warn({ event: 'telegram.updates_lease', held: false }, 'Telegram: another instance took over the commands; polling stopped here');
            await theBot.stop(config.shutdownGraceMs);
            state = 'standby';
          },
          onError: (err) => log.warn({ event: 'telegram.updates_lease_failed', err: (err as Error).message }, 'could not take or renew the Telegram updates lease; trying again'),
        });
        await updatesLease.start();
      } else {
        await theBot.start({ mode: 'polling' });
        state = 'polling';
      }
      await bot.setCommands({ 'pt-BR': host.router.menu('pt-BR'), en: host.router.menu('en') });
    } catch (err) {
      log.warn({ event: 'telegram.commands_failed', reason: (err as Error).message }, `commands are off until the next start: ${(err as Error).message}`);
    }
  }

  return {
    platform: 'telegram',
    sender: {
      platform: 'telegram',
      send: (dest, msg) => sender.send(dest, msg),
      edit: (dest, id, msg) => sender.edit(dest, id, msg),
      check: (dest) => sender.check(dest),
      ready: () => !['connecting', 'unreachable', 'unauthorized', 'stopped'].includes(state),
    },
    pacing,
    destinations,
    state: () => state,
    holdsUpdates: () => updatesLease?.held ?? false,
    httpHandlers: [(req, res) => (bot ? bot.webhookHandler(req, res) : Promise.resolve(false))],
    async start(host: PlatformHost) {
      await connect(host);
    },
    async stop() {
      stopped = true;
      if (retryTimer) clearTimeout(retryTimer);
      const lease = updatesLease;
      updatesLease = null;
      await bot?.stop(config.shutdownGraceMs);
      await lease?.stop();
      await transport.close().catch(() => undefined);
      state = 'stopped';
    },
  };
}
