import type { Destination, DestinationOptions } from '../../delivery/types.js';

/** A TELEGRAM_CHATS value that could not be read; `entries` lists every bad entry, not only the first. */
export class TelegramChatsError extends Error {
  constructor(readonly entries: string[]) {
    super(entries.map((e) => `TELEGRAM_CHATS entry "${e}" is not @username, a numeric id or id:topic (e.g. @canal, -1001234567890, -1001234567890:42)`).join('\n'));
    this.name = 'TelegramChatsError';
  }
}

/** `@username` (5–32 letters, digits, `_`, starting with a letter), or a chat id, optionally `:topic`. */
const ENTRY = /^(@[A-Za-z][A-Za-z0-9_]{3,31}|-?\d{1,16})(?::(\d{1,10}))?$/;

/** The destination id the outbox uses: `telegram:<chatId>[:<threadId>]`. */
export function telegramDestinationId(chatId: string, threadId: string | null): string {
  return threadId ? `telegram:${chatId}:${threadId}` : `telegram:${chatId}`;
}

/**
 * Reads TELEGRAM_CHATS entries: `@channel`, `-100…` (channels and supergroups), `-…` (basic groups),
 * `123456` (a private chat), and `<id or @username>:<topic id>` for a forum topic. Whitespace is trimmed,
 * empty entries skipped and repeats kept once. Throws TelegramChatsError naming every entry it cannot read.
 * `options` are the defaults every destination starts with (the routes file may refine them).
 */
export function parseTelegramChats(list: readonly string[], options: DestinationOptions = {}): Destination[] {
  const bad: string[] = [];
  const out: Destination[] = [];
  const seen = new Set<string>();
  for (const raw of list) {
    const entry = raw.trim();
    if (!entry) continue;
    const m = ENTRY.exec(entry);
    if (!m || m[2] === '0' || /^-?0+$/.test(m[1]!)) {
      bad.push(entry);
      continue;
    }
    const chatId = m[1]!;
    const threadId = m[2] ?? null;
    const id = telegramDestinationId(chatId, threadId);
    if (seen.has(id.toLowerCase())) continue; // usernames are case-insensitive
    seen.add(id.toLowerCase());
    out.push({ id, platform: 'telegram', chatId, threadId, options: { ...options } });
  }
  if (bad.length > 0) throw new TelegramChatsError(bad);
  return out;
}
