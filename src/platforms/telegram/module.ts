import { randomBytes } from 'node:crypto';
import { Telegraf } from 'telegraf';
import type { Config } from '../../config.js';
import type { Logger } from '../../log.js';
import type { App, PlatformModule } from '../../main.js';
import { Pacer, telegramPolicy } from '../../delivery/pacer.js';
import type { Destination } from '../../delivery/types.js';
import type { RouteDestination } from '../../delivery/routes-file.js';
import { createTelegramBot, type TelegramBot } from './bot.js';
import { parseTelegramChats } from './destinations.js';
import { classifyTelegramError } from './errors.js';
import { createTelegramSender } from './sender.js';

/**
 * Telegram as the app sees it: the sender and pacing for the dispatcher, the configured destinations,
 * and the bot that carries commands (long polling, or a webhook on the app's HTTP server).
 */
export function createTelegramModule(config: Config, logger: Logger, routeDestinations: RouteDestination[]): PlatformModule {
  const token = config.telegram.token;
  if (!token) throw new Error('createTelegramModule needs TELEGRAM_BOT_TOKEN');
  const log = logger.child({ platform: 'telegram' });
  const telegraf = new Telegraf(token, { telegram: { apiRoot: config.telegram.apiRoot } });
  const sender = createTelegramSender({ telegram: telegraf, logger: log, token });
  const pacer = new Pacer(
    telegramPolicy({ maxPerSecond: config.telegram.maxPerSecond, chatGapMs: config.telegram.chatGapMs, groupPerMinute: config.telegram.groupPerMinute }),
  );
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

  return {
    platform: 'telegram',
    sender,
    pacer,
    destinations,
    state: () => state,
    httpHandlers: [(req, res) => (bot ? bot.webhookHandler(req, res) : Promise.resolve(false))],
    async start(app: App) {
      state = 'connecting';
      try {
        const me = await sender.me();
        log.info({ event: 'telegram.me', username: me.username }, `Telegram: signed in as @${me.username}`);
      } catch (err) {
        state = 'error';
        const e = classifyTelegramError(err, { token, method: 'getMe' });
        app.print(`telegram: cannot sign in (${e.message}); check TELEGRAM_BOT_TOKEN and TELEGRAM_API_ROOT. Deliveries wait in the outbox.`);
        log.error({ event: 'telegram.signin_failed', reason: e.message }, 'Telegram sign-in failed');
        return;
      }
      for (const d of destinations) {
        const c = await sender.check(d);
        app.print(`${d.chatId}${d.threadId ? `:${d.threadId}` : ''}: ${c.message}`);
        if (c.title || c.kind) await app.destinations.describe(d.id, { title: c.title ?? null, kind: c.kind ?? null });
        if (c.gone) await app.destinations.markDead(d.id, c.message);
      }
      bot = createTelegramBot({
        token,
        apiRoot: config.telegram.apiRoot,
        logger: log,
        telegraf,
        onMessage: (m) => app.router.handleMessage(m),
        onAction: (a) => app.router.handleAction(a),
      });
      if (config.telegram.webhookUrl) {
        await bot.start({ mode: 'webhook', url: config.telegram.webhookUrl, secret: webhookSecret });
        state = 'webhook';
      } else {
        await bot.start({ mode: 'polling' });
        state = 'polling';
      }
      try {
        await bot.setCommands({ 'pt-BR': app.router.menu('pt-BR'), en: app.router.menu('en') });
      } catch (err) {
        log.warn({ event: 'telegram.commands_failed', reason: (err as Error).message }, 'could not set the command menu');
      }
    },
    async stop() {
      await bot?.stop(config.shutdownGraceMs);
      state = 'stopped';
    },
  };
}
