/**
 * The WhatsApp platform (Baileys 7). Nothing outside this folder imports Baileys; the rest of Manchete
 * uses these:
 * - `useDatabaseAuthState` (auth-store): the session in the database;
 * - `WhatsAppConnection` (connection): the socket lifecycle, states, lease, group cache;
 * - `createWhatsAppSender` (sender): the PlatformSender, plus `onMessageUpdate`;
 * - `parseWhatsAppChats` (chats): WHATSAPP_CHATS entries;
 * - `wireCommands` (incoming): the command router on WhatsApp;
 * - `runWhatsAppLogin` (login) and `whatsappLogin` (module): pairing.
 */
export { useDatabaseAuthState, isPaired, type DatabaseAuthState } from './auth-store.js';
export { acquireLease, renewLease, releaseLease, describeHeldLease, type LeaseResult, type Clock } from './lease.js';
export {
  WhatsAppConnection,
  backoffDelay,
  phoneOfJid,
  type WhatsAppState,
  type WhatsAppStateChange,
  type WhatsAppStatus,
  type WhatsAppConnectionOptions,
} from './connection.js';
export { makeBaileysSocketFactory, type SocketFactory, type SocketLike, type SocketFactoryOptions } from './socket.js';
export { createWhatsAppSender, classifyWhatsAppError, type WhatsAppSender, type WhatsAppMessageUpdate } from './sender.js';
export { parseWhatsAppChats, parseWhatsAppChat, WhatsAppChatsError, type WhatsAppChat } from './chats.js';
export { wireCommands, toIncomingMessage, readUpsert, renderReplyText, type IncomingContext } from './incoming.js';
export { runWhatsAppLogin, WhatsAppLoginError } from './login.js';
export { whatsappLogin } from './module.js';
