/**
 * The commands stage: one platform-neutral router for subscriber and editor commands (router.ts), the
 * services it needs from the rest of Manchete (services.ts), and the subscriber/audit/pause queries the
 * delivery side shares (repo.ts). Nothing here imports telegraf or Baileys.
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
