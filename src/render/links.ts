/**
 * Links in rendered messages are http(s) only: the last line of defence behind normalisation (which
 * already refuses other article links and image addresses), for whatever a template builds.
 */
import { httpUrl } from '../articles/canonical.js';
import { onlyAmpEntities, tokenizeTelegramHtml, type TelegramHtmlToken } from './telegram-html.js';

/**
 * The HTML with every `<a>` whose href is not an absolute http(s) address unwrapped (its text stays):
 * the renderer's last line of defence, so that no `javascript:`, `data:`, `tg:` or relative link built
 * from hostile values by any template reaches Telegram. HTML that does not tokenize is returned as it
 * is (the validation that follows reports it).
 */
export function dropUnsafeLinks(html: string): string {
  if (!/<a[\s>]/i.test(html)) return html;
  if (plainSafeLinks(html)) return html;
  let tokens: TelegramHtmlToken[];
  try {
    tokens = tokenizeTelegramHtml(html);
  } catch {
    return html;
  }
  let out = '';
  let changed = false;
  // Telegram does not nest links: a dropped <a> is closed by the next </a>.
  let dropping = false;
  for (const tok of tokens) {
    if (tok.type === 'open' && tok.name === 'a' && httpUrl(tok.attrs.href ?? '') === null) {
      dropping = true;
      changed = true;
      continue;
    }
    if (tok.type === 'close' && tok.name === 'a' && dropping) {
      dropping = false;
      continue;
    }
    out += tok.raw;
  }
  return changed ? out : html;
}

const LINK_OPEN_RE = /<a[\s>]/gi;

/**
 * Whether every `<a` that can open a link is written `<a href="…">` with an http(s) address free of
 * `<` and `>` and with no reference but `&amp;`: what templates produce. Such HTML comes back from `dropUnsafeLinks` unchanged,
 * and telling so needs no tokens. Any other `<a` (another attribute, quotes, entities) says no, and
 * the tokenizer decides.
 */
function plainSafeLinks(html: string): boolean {
  LINK_OPEN_RE.lastIndex = 0;
  for (let m = LINK_OPEN_RE.exec(html); m; m = LINK_OPEN_RE.exec(html)) {
    const at = m.index;
    if (!html.startsWith('<a href="', at)) return false;
    const close = html.indexOf('"', at + 9);
    if (close < 0 || html.charCodeAt(close + 1) !== 0x3e /* > */) return false;
    const raw = html.slice(at + 9, close);
    if (raw.includes('<') || raw.includes('>') || !onlyAmpEntities(raw)) return false;
    // What the tokenizer decodes the attribute to: `&amp;` is the only reference in it.
    const href = raw.includes('&') ? raw.replaceAll('&amp;', '&') : raw;
    if (httpUrl(href) === null) return false;
    LINK_OPEN_RE.lastIndex = close + 2;
  }
  return true;
}
