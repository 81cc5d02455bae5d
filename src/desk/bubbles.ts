import type { OutboundMessage } from '../render/types.js';

/**
 * Draws rendered messages as the chat apps would, as HTML for the desk's bubbles. The input is the
 * renderer's own output (the very payload a destination is sent), so feed text in it is already escaped
 * for its format; these functions keep it escaped. Telegram: the HTML subset Telegram honours is kept as
 * tags (b, i, u, s, a, code, pre, blockquote), anything else shows as text. WhatsApp: `*bold*`,
 * `_italic_`, `~strike~` become tags over HTML-escaped text. Every scan is linear (no backtracking).
 */

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const TELEGRAM_TAGS: Record<string, string> = { b: 'b', strong: 'b', i: 'i', em: 'i', u: 'u', ins: 'u', s: 's', strike: 's', del: 's', code: 'code', pre: 'pre', blockquote: 'blockquote', 'tg-spoiler': 'span' };

/** A safe http(s) URL or null. */
function safeHref(raw: string): string | null {
  const decoded = raw.replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  try {
    const u = new URL(decoded);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : null;
  } catch {
    return null;
  }
}

/** Telegram parse_mode HTML → the bubble's HTML. Unknown or malformed tags show as escaped text. */
export function telegramHtmlToBubble(html: string): string {
  let out = '';
  let i = 0;
  const open: string[] = [];
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    if (lt < 0) {
      out += html.slice(i);
      break;
    }
    out += html.slice(i, lt);
    const gt = html.indexOf('>', lt);
    if (gt < 0 || gt - lt > 2100) {
      out += esc(html.slice(lt));
      break;
    }
    const tag = html.slice(lt + 1, gt);
    const m = /^(\/?)([a-z-]+)(?:\s+href="([^"]*)")?\s*$/i.exec(tag);
    const name = m ? m[2]!.toLowerCase() : '';
    if (m && name === 'a') {
      if (m[1]) {
        if (open.at(-1) === 'a') {
          open.pop();
          out += '</a>';
        }
      } else {
        const href = m[3] ? safeHref(m[3]) : null;
        open.push('a');
        out += href ? `<a href="${esc(href)}" rel="noopener noreferrer" target="_blank">` : '<a>';
      }
    } else if (m && TELEGRAM_TAGS[name] && !m[3]) {
      const t = TELEGRAM_TAGS[name]!;
      if (m[1]) {
        if (open.at(-1) === t) {
          open.pop();
          out += `</${t}>`;
        }
      } else {
        open.push(t);
        out += `<${t}>`;
      }
    } else out += esc(html.slice(lt, gt + 1));
    i = gt + 1;
  }
  while (open.length) out += `</${open.pop()}>`;
  return out.replace(/\n/g, '<br>');
}

/** WhatsApp markup → the bubble's HTML: escaped first, then the markers between word edges. */
export function whatsappToBubble(text: string): string {
  const lines = esc(text).split('\n');
  const mark = (line: string, ch: string, tag: string) => {
    let out = '';
    let i = 0;
    while (i < line.length) {
      const a = line.indexOf(ch, i);
      if (a < 0) break;
      const b = line.indexOf(ch, a + 1);
      if (b < 0) break;
      if (b === a + 1 || line[a + 1] === ' ' || line[b - 1] === ' ') {
        out += line.slice(i, a + 1);
        i = a + 1;
        continue;
      }
      out += `${line.slice(i, a)}<${tag}>${line.slice(a + 1, b)}</${tag}>`;
      i = b + 1;
    }
    return out + line.slice(i);
  };
  return lines.map((l) => mark(mark(mark(l, '*', 'b'), '_', 'i'), '~', 's')).join('<br>');
}

export interface Bubble {
  /** The bubble's inner HTML (escaped, safe). */
  html: string;
  imageUrl: string | null;
  card: { title: string; description: string; imageUrl: string | null; url: string | null } | null;
}

export function bubblesFor(platform: 'telegram' | 'whatsapp', messages: OutboundMessage[]): Bubble[] {
  return messages.map((m) => {
    const image = m.imageUrl && safeHref(m.imageUrl) ? m.imageUrl : null;
    if (platform === 'telegram') return { html: telegramHtmlToBubble(m.text), imageUrl: m.kind === 'text' ? null : image, card: null };
    const card = m.preview ? { title: m.preview.title, description: m.preview.description, imageUrl: m.preview.imageUrl && safeHref(m.preview.imageUrl) ? m.preview.imageUrl : null, url: m.previewUrl ?? null } : null;
    return { html: whatsappToBubble(m.text), imageUrl: m.kind === 'text' ? null : image, card };
  });
}
