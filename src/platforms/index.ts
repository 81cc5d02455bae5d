import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { PlatformModule } from './types.js';
import type { RoutesFile } from '../delivery/routes-file.js';

/**
 * The platforms this configuration turns on. Telegram with TELEGRAM_BOT_TOKEN, WhatsApp with
 * WHATSAPP_ENABLED=true; none at all is the console preview mode. Modules load lazily, so a Telegram-only
 * install never loads Baileys. Nothing connects until the module's start().
 */
export async function createPlatformModules(config: Config, logger: Logger, routes: RoutesFile): Promise<PlatformModule[]> {
  const out: PlatformModule[] = [];
  const telegramRoutes = routes.destinations.filter((d) => d.platform === 'telegram');
  const whatsappRoutes = routes.destinations.filter((d) => d.platform === 'whatsapp');
  if (config.telegram.token) {
    const { createTelegramModule } = await import('./telegram/module.js');
    out.push(createTelegramModule(config, logger, routes.destinations));
  } else if (config.telegram.chats.length || telegramRoutes.length) {
    logger.warn({ event: 'telegram.off' }, 'Telegram destinations are configured but TELEGRAM_BOT_TOKEN is empty: Telegram is off');
  }
  if (config.whatsapp.enabled) {
    const { createWhatsAppModule } = await import('./whatsapp/module.js');
    out.push(await createWhatsAppModule(config, logger, routes.destinations));
  } else if (config.whatsapp.chats.length || whatsappRoutes.length) {
    logger.warn({ event: 'whatsapp.off' }, 'WhatsApp destinations are configured but WHATSAPP_ENABLED is not true: WhatsApp is off');
  }
  return out;
}
