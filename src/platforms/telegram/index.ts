/**
 * The Telegram platform adapter (telegraf 4.16). The rest of Manchete talks to Telegram only through
 * what this folder exports:
 * - `createTelegramSender`: the PlatformSender the dispatcher calls (send, edit, check); classified
 *   errors, the plain-text and text-instead-of-photo degradations, never a retry of its own.
 * - `createTelegramBot`: commands in (long polling or webhook), the router's replies out.
 * - `parseTelegramChats`: TELEGRAM_CHATS entries → Destinations.
 * - `createTelegramClient`: the one Bot API client both use (telegraf's callApi wrapped by the deadline and
 *   classification transformers); failures are `TelegramApiError`s carrying the answer's fields.
 * - `classifyTelegramError` / `scrubToken`: how a Bot API failure maps onto SendErrorKind, token-free.
 * It does not pace, queue or persist anything: that is `delivery/`.
 */
export { createTelegramBot, type BotCommandSpec, type TelegramBot, type TelegramBotOptions, type TelegramBotStart } from './bot.js';
export {
  TelegramApiError,
  classifyTransformer,
  createTelegramClient,
  timeoutTransformer,
  type ApiCall,
  type CallOptions,
  type NewerMethods,
  type NewerParams,
  type TelegramApiClient,
  type TelegramApiFailure,
  type TelegramClientOptions,
  type Transformer,
} from './client.js';
export { TelegramChatsError, parseTelegramChats, telegramDestinationId } from './destinations.js';
export { TelegramTimeoutError, classifyTelegramError, scrubToken, telegramErrorCode, type TelegramErrorCode } from './errors.js';
export { CHECK_LINES, createTelegramSender, type TelegramClient, type TelegramSender, type TelegramSenderOptions } from './sender.js';
