import { ADMIN_COMMANDS } from './admin.js';
import type { CommandSpec, Ctx } from './context.js';
import type { CommandStrings } from './i18n.js';
import { DIGEST_COMMANDS } from './digest-flow.js';
import { PUSH_COMMANDS } from './push-flow.js';
import { SUBSCRIBER_COMMANDS } from './subscriber.js';
import { foldTopic, type Locale } from './text.js';

/**
 * The command table, derived from the declarations (CommandSpec) in subscriber.ts, push-flow.ts,
 * digest-flow.ts and admin.ts: the words accepted, the menu per language and who may run what all come from the same
 * objects, so an alias, a menu line and an access rule cannot drift apart.
 */

/** Every command Manchete knows, subscriber commands first (their order is the menu's). */
export const COMMANDS: readonly CommandSpec[] = [...SUBSCRIBER_COMMANDS, ...PUSH_COMMANDS, ...DIGEST_COMMANDS, ...ADMIN_COMMANDS];

/** A command for a platform's menu (Telegram `setMyCommands`). */
export interface MenuCommand {
  command: string;
  description: string;
}

/** Why a command may not run here; null when it may. */
export type AccessRefusal = 'not_editor' | 'not_private' | null;

export interface CommandRegistry {
  readonly specs: readonly CommandSpec[];
  /** The accepted words (folded) and the command each means. */
  readonly aliases: ReadonlyMap<string, CommandSpec>;
  /** The command a folded word names, or undefined. */
  lookup(word: string): CommandSpec | undefined;
  /** The command with this id (`confirm`), or undefined. */
  byId(id: string): CommandSpec | undefined;
  /** The menu in one language: each subscriber command under its name in that language. */
  menu(locale: Locale, strings: CommandStrings): MenuCommand[];
  /** Whether the sender may run the command in this chat: editors only for editor commands, then private only. */
  access(spec: CommandSpec, ctx: Pick<Ctx, 'editorId' | 'isPrivate'>): AccessRefusal;
}

/** Thrown at start when two declarations claim the same word or id: a programming error, never user input. */
export class CommandRegistryError extends Error {
  override name = 'CommandRegistryError';
}

/** The names a command answers to, folded as parseCommand folds what users type. */
export function namesOf(spec: CommandSpec): string[] {
  return [...new Set([spec.names['pt-BR'], spec.names.en, ...(spec.names.aliases ?? [])].map(foldTopic))];
}

export function createRegistry(specs: readonly CommandSpec[] = COMMANDS): CommandRegistry {
  const aliases = new Map<string, CommandSpec>();
  const ids = new Map<string, CommandSpec>();
  for (const spec of specs) {
    if (ids.has(spec.id)) throw new CommandRegistryError(`command id "${spec.id}" is declared twice`);
    ids.set(spec.id, spec);
    for (const name of namesOf(spec)) {
      if (name === '') throw new CommandRegistryError(`command "${spec.id}" has an empty name`);
      const other = aliases.get(name);
      if (other) throw new CommandRegistryError(`"/${name}" is claimed by both "${other.id}" and "${spec.id}"`);
      aliases.set(name, spec);
    }
  }
  return {
    specs,
    aliases,
    lookup: (word) => aliases.get(word),
    byId: (id) => ids.get(id),
    menu: (locale, strings) =>
      specs.flatMap((s) => (s.access === 'subscriber' && s.menu ? [{ command: foldTopic(s.names[locale]), description: strings[locale][s.menu] }] : [])),
    access: (spec, ctx) => {
      if (spec.access === 'editor' && !ctx.editorId) return 'not_editor';
      if (spec.privateOnly && !ctx.isPrivate) return 'not_private';
      return null;
    },
  };
}
