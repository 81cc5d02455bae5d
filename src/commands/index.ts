/**
 * The commands stage: a small platform-neutral dispatcher (router.ts) over commands declared once each
 * (subscriber.ts, push-flow.ts, admin.ts) and the table derived from them (registry.ts); the editor
 * allow-list check (editors.ts); the services it needs from the rest of Manchete (services.ts); and the
 * subscriber/audit/pause queries the delivery side shares (repo.ts). Nothing here imports telegraf or Baileys.
 */
export { createCommandRouter } from './router.js';
export { isEditor } from './editors.js';
export { COMMANDS, createRegistry, CommandRegistryError } from './registry.js';
export type { CommandRegistry, AccessRefusal } from './registry.js';
export type { CommandSpec, CommandAccess } from './context.js';
export type { CommandRouter, CommandRouterDeps, MenuCommand } from './router.js';
export * from './services.js';
export * from './repo.js';
export { foldTopic, localeFor, sanitizeInput, truncateEcho, parseCommand, parseHttpUrl } from './text.js';
export type { Locale, ParsedCommand } from './text.js';
export { loadCommandStrings, CommandStringsError, MESSAGE_KEYS } from './i18n.js';
export type { CommandStrings, MessageKey } from './i18n.js';
export type { IncomingMessage, IncomingAction, Reply, ReplyButton } from './types.js';
