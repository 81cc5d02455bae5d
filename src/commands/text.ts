import { foldTopic } from '../articles/fold.js';
/**
 * Pure text helpers for the command router: cleaning what people type, folding topic names so that
 * `politica` finds `Política`, splitting `/cmd@bot args`, and choosing the reply language.
 * No I/O here; everything takes a value and returns a value.
 */

/** The languages replies are written in. */
export type Locale = 'pt-BR' | 'en';

/** The longest input the router looks at, in UTF-16 units (Telegram's own message limit). Longer text is cut. */
export const MAX_INPUT = 4096;

/** How much of a user's own words the router repeats back in a reply. */
export const ECHO_MAX = 60;

// Format characters that change nothing visible but break matching or flip text direction:
// soft hyphen, Arabic letter mark, Mongolian vowel separator, zero-width space/joiners, LRM/RLM,
// bidi embeddings and isolates, word joiner and invisible operators, BOM.
const INVISIBLE = /[\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFEFF]/g;
// C0 and C1 control characters except tab and line feed (carriage returns are handled first).
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/g;
// A high surrogate without its pair, or a low one without its lead: what a blind cut leaves behind.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * Makes incoming text safe to parse and to echo: cuts it to MAX_INPUT, removes control characters,
 * invisible format characters (zero-width, bidi marks) and broken surrogates, normalises to NFC and
 * trims. Line breaks survive (a `/push` may put destinations on the next line).
 */
export function sanitizeInput(text: string): string {
  // Cut generously first so that a 10 MB paste costs no more than a 8 KB one.
  let s = text.length > MAX_INPUT * 2 ? text.slice(0, MAX_INPUT * 2) : text;
  s = s.replace(/\r\n?/g, '\n').replace(/\t/g, ' ');
  s = s.replace(CONTROL, '').replace(INVISIBLE, '').replace(LONE_SURROGATE, '');
  s = s.normalize('NFC');
  if (s.length > MAX_INPUT) s = s.slice(0, MAX_INPUT).replace(LONE_SURROGATE, '');
  return s.trim();
}

/**
 * A short, single-line version of something the user wrote, for quoting it back ("I don't know the
 * topic “…”"): whitespace collapsed, cut to `max` characters (code points, so emoji stay whole) with an
 * ellipsis. Expects sanitized input; strips control characters again in case it is not.
 */
export function truncateEcho(text: string, max: number = ECHO_MAX): string {
  const flat = text.replace(CONTROL, ' ').replace(INVISIBLE, '').replace(/\s+/g, ' ').trim();
  const chars = Array.from(flat);
  return chars.length <= max ? flat : `${chars.slice(0, Math.max(1, max - 1)).join('')}…`;
}

/** Topic folding is shared with routing: see articles/fold.ts. */
export { foldTopic };

/** A command as typed: `/Assinar@manchete_bot  Política` → name `assinar`, mention `manchete_bot`, args. */
export interface ParsedCommand {
  /** Folded command name without the slash; empty when what followed the slash is not a name. */
  name: string;
  /** The command word as typed (without slash and mention), for quoting back. */
  word: string;
  /** The `@bot` suffix as written, or null. */
  mention: string | null;
  /** Everything after the command word, trimmed (line breaks kept). */
  rest: string;
  /** `rest` split on whitespace. */
  args: string[];
}

const COMMAND_NAME = /^[\p{L}\p{N}_]{1,64}$/u;

/** Reads a command from sanitized text, or returns null when the text does not start with `/`. */
export function parseCommand(text: string): ParsedCommand | null {
  if (!text.startsWith('/')) return null;
  const m = /^\/(\S*)/.exec(text);
  const token = m?.[1] ?? '';
  const at = token.indexOf('@');
  const rawName = at >= 0 ? token.slice(0, at) : token;
  const mention = at >= 0 ? token.slice(at + 1) : null;
  const name = COMMAND_NAME.test(rawName) ? foldTopic(rawName) : '';
  const rest = text.slice(1 + token.length).trim();
  return { name, word: rawName, mention, rest, args: rest === '' ? [] : rest.split(/\s+/) };
}

/**
 * The reply language: a Telegram `language_code` starting with `pt` gives pt-BR, any other code gives
 * English, and no code at all (WhatsApp) gives the configured default.
 */
export function localeFor(languageCode: string | null | undefined, fallback: Locale): Locale {
  const code = (languageCode ?? '').trim().toLowerCase();
  if (code === '') return fallback;
  return code.startsWith('pt') ? 'pt-BR' : 'en';
}

/**
 * Parses an `http:` or `https:` URL an editor typed, tolerating the `<…>` some clients wrap links in.
 * Returns null for anything else (other schemes, no host, over 2,048 characters, not a URL).
 */
export function parseHttpUrl(input: string): URL | null {
  const s = input.trim().replace(/^<(.*)>$/, '$1');
  if (s.length === 0 || s.length > 2048) return null;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return null;
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
  if (!u.hostname) return null;
  return u;
}
