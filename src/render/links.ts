/**
 * Links in rendered messages are http(s) only: the last line of defence behind normalisation (which
 * already refuses other article links and image addresses), for whatever a template builds.
 */
import { httpUrl } from '../articles/canonical.js';
import { tokenizeTelegramHtml, type TelegramHtmlToken } from './telegram-html.js';

/**
 * The HTML with every `<a>` whose href is not an absolute http(s) address unwrapped (its text stays):
 * the renderer's last line of defence, so that no `javascript:`, `data:`, `tg:` or relative link built
 * from hostile values by any template reaches Telegram. HTML that does not tokenize is returned as it
 * is (the validation that follows reports it).
 */
export function dropUnsafeLinks(html: string): string {
  if (!/<a[\s>]/i.test(html)) return html;
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
