import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locale } from './text.js';

/**
 * The command replies' strings. They live in `templates/locales/commands.<locale>.json` so that an
 * operator can reword them without touching code; placeholders are `{name}`. Every key below must be
 * present for both languages: loading fails at start, naming the file and the key, rather than a user
 * meeting a blank reply later.
 */

/** Every string the router uses. */
export const MESSAGE_KEYS = [
  'welcome',
  'welcome.group',
  'welcome.subscribed',
  'help.subscriber',
  'help.editor',
  'pointer',
  'unknownCommand',
  'privateOnly',
  'error.generic',
  'topics.header',
  'topics.on',
  'topics.off',
  'topics.none',
  'topics.footer',
  'topic.unknown',
  'topic.ambiguous',
  'subscribe.usage',
  'subscribe.ok',
  'subscribe.already',
  'unsubscribe.usage',
  'unsubscribe.ok',
  'unsubscribe.notSubscribed',
  'alert.usage',
  'alert.tooLong',
  'alert.noWords',
  'alert.limit',
  'alert.added',
  'alert.already',
  'alert.removed',
  'alerts.none',
  'alerts.topics',
  'alerts.header',
  'alerts.footer',
  'menu.alert',
  'menu.alerts',
  'stop.ok',
  'stop.nothing',
  'latest.header',
  'latest.headerTopic',
  'latest.item',
  'latest.empty',
  'latest.emptyTopic',
  'editor.refused',
  'editor.privateOnly',
  'push.usage',
  'push.badUrl',
  'push.destUnknown',
  'push.destAmbiguous',
  'push.noDestinations',
  'push.prepareFailed',
  'push.preview',
  'push.ask',
  'push.already',
  'push.confirmHint',
  'push.button.ok',
  'push.button.no',
  'push.enqueued',
  'push.enqueueFailed',
  'push.cancelled',
  'push.expired',
  'push.unknownCode',
  'push.notYours',
  'push.confirmUsage',
  'push.cancelUsage',
  'push.progress',
  'push.progressDone',
  'push.progressFailed',
  'preview.usage',
  'preview.header',
  'digest.none',
  'digest.choose',
  'digest.destUnknown',
  'digest.empty',
  'digest.preview',
  'digest.ask',
  'digest.enqueued',
  'digest.nothingLeft',
  'digest.cancelled',
  'pause.ok',
  'pause.already',
  'resume.ok',
  'resume.already',
  'status.title',
  'status.posting.active',
  'status.posting.paused',
  'status.feeds',
  'status.feed',
  'status.feed.error',
  'status.feed.heldBack',
  'status.queues',
  'status.queue',
  'status.queue.dead',
  'status.sends',
  'status.send',
  'status.platforms',
  'status.platform',
  'status.platform.degraded',
  'status.none',
  'time.never',
  'list.more',
  'menu.start',
  'menu.help',
  'menu.latest',
  'menu.topics',
  'menu.subscribe',
  'menu.unsubscribe',
  'menu.stop',
] as const;

/** A string's name. */
export type MessageKey = (typeof MESSAGE_KEYS)[number];

/** One language's strings. */
export type MessageTable = Record<MessageKey, string>;

/** Both languages' strings. */
export type CommandStrings = Record<Locale, MessageTable>;

/** The locales, and their file names. */
export const LOCALES: readonly Locale[] = ['pt-BR', 'en'];

/** The file holding one locale's command strings inside a locales folder. */
export const commandStringsFile = (dir: string, locale: Locale): string => join(dir, `commands.${locale}.json`);

/** A strings file that is missing, unreadable, not JSON, or lacks a key. */
export class CommandStringsError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`command strings ${file}: ${problem}; copy templates/locales/commands.*.json from Manchete and edit the copy`);
    this.name = 'CommandStringsError';
  }
}

/**
 * Loads both locales from the given folders. The first folder is the operator's; later ones fill any key
 * (or whole file) the earlier ones lack, so a customised folder may hold only the strings it changes.
 * Throws CommandStringsError when a file is not valid JSON, a value is not a string, or a key is found
 * in no folder.
 */
export function loadCommandStrings(dirs: string | readonly string[]): CommandStrings {
  const list = typeof dirs === 'string' ? [dirs] : [...dirs];
  const out = {} as CommandStrings;
  for (const locale of LOCALES) {
    const table: Partial<MessageTable> = {};
    let lastFile = commandStringsFile(list[0] ?? '.', locale);
    for (const dir of list) {
      const file = commandStringsFile(dir, locale);
      let raw: string;
      try {
        raw = readFileSync(file, 'utf8');
      } catch {
        continue; // a folder may leave a whole locale to the next one
      }
      lastFile = file;
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch (e) {
        throw new CommandStringsError(file, `not valid JSON (${(e as Error).message})`);
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw new CommandStringsError(file, 'must be a JSON object of "key": "text"');
      for (const key of MESSAGE_KEYS) {
        if (table[key] !== undefined) continue;
        const v = (parsed as Record<string, unknown>)[key];
        if (v === undefined) continue;
        if (typeof v !== 'string') throw new CommandStringsError(file, `"${key}" must be a string`);
        table[key] = v;
      }
    }
    const missing = MESSAGE_KEYS.filter((k) => table[k] === undefined);
    if (missing.length) throw new CommandStringsError(lastFile, `missing ${missing.map((k) => `"${k}"`).join(', ')}`);
    out[locale] = table as MessageTable;
  }
  return out;
}

/** Fills `{name}` placeholders; unknown placeholders stay as written so a typo shows instead of vanishing. */
export function fill(template: string, vars: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const v = vars[name];
    return v === undefined ? whole : String(v);
  });
}
