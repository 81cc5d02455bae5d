import { describe, expect, it } from 'vitest';
import {
  fitTelegram,
  fitWhatsApp,
  splitPlainText,
  splitTelegramHtml,
  TELEGRAM_CAPTION_LIMIT,
  TELEGRAM_TEXT_LIMIT,
} from '../../src/render/fit.js';
import { htmlToPlain, telegramTextLength, validateTelegramHtml } from '../../src/render/telegram-html.js';

/** Text content without any whitespace: what must survive a split unchanged. */
const content = (html: string) => htmlToPlain(html).replace(/\s+/g, '');

function expectGoodParts(html: string, parts: string[], limit = TELEGRAM_TEXT_LIMIT) {
  expect(parts.length).toBeGreaterThan(1);
  for (const p of parts) {
    expect(validateTelegramHtml(p), p.slice(0, 200)).toEqual({ ok: true });
    expect(telegramTextLength(p)).toBeLessThanOrEqual(limit);
    expect(htmlToPlain(p).trim()).not.toBe('');
  }
  expect(parts.map(content).join('')).toBe(content(html));
}

const sentence = (i: number) => `Frase número ${i} com algumas palavras de enchimento para ocupar espaço.`;

describe('splitTelegramHtml', () => {
  it('returns text that fits as it is', () => {
    expect(splitTelegramHtml('<b>curto</b>')).toEqual(['<b>curto</b>']);
    expect(splitTelegramHtml('')).toEqual([]);
  });

  it('splits on paragraph boundaries first', () => {
    const para = Array.from({ length: 8 }, (_, i) => sentence(i)).join(' ');
    const html = Array.from({ length: 12 }, () => para).join('\n\n');
    const parts = splitTelegramHtml(html, 1000);
    expectGoodParts(html, parts, 1000);
    for (const p of parts) expect(p.endsWith('espaço.')).toBe(true);
    // Each part is whole paragraphs.
    for (const p of parts) for (const chunk of p.split('\n\n')) expect(chunk).toBe(para);
  });

  it('falls back to sentences, then words', () => {
    const html = Array.from({ length: 200 }, (_, i) => sentence(i)).join(' ');
    const parts = splitTelegramHtml(html, 500);
    expectGoodParts(html, parts, 500);
    for (const p of parts.slice(0, -1)) expect(p.endsWith('.')).toBe(true);

    const words = Array.from({ length: 600 }, (_, i) => `palavra${i}`).join(' ');
    const wparts = splitTelegramHtml(words, 500);
    expectGoodParts(words, wparts, 500);
    for (const p of wparts) expect(p).toMatch(/^palavra\d+( palavra\d+)*$/); // never mid-word
  });

  it('closes open tags at a split and reopens them in the next part', () => {
    const inner = Array.from({ length: 100 }, (_, i) => sentence(i)).join(' ');
    const html = `<b>Título</b>\n\n<blockquote expandable><i>${inner}</i></blockquote>\n<a href="https://x.y/?a=1&amp;b=2">Leia mais</a>`;
    const parts = splitTelegramHtml(html, 1500);
    expectGoodParts(html, parts, 1500);
    expect(parts[1]!.startsWith('<blockquote expandable><i>')).toBe(true);
    expect(parts[0]!.endsWith('</i></blockquote>')).toBe(true);
  });

  it('hard-cuts a 5,000-character word at the limit', () => {
    const word = 'a'.repeat(5000);
    const parts = splitTelegramHtml(`<b>${word}</b>`);
    expectGoodParts(`<b>${word}</b>`, parts);
    expect(parts).toEqual([`<b>${'a'.repeat(4096)}</b>`, `<b>${'a'.repeat(904)}</b>`]);
  });

  it('never cuts inside an entity', () => {
    const html = '&amp;'.repeat(5000);
    const parts = splitTelegramHtml(html);
    expectGoodParts(html, parts);
    expect(parts[0]).toBe('&amp;'.repeat(4096));
  });

  it('never cuts a surrogate pair, a combining mark or a ZWJ sequence', () => {
    const emoji = '😀'.repeat(3000); // 6000 UTF-16 units, no spaces
    expectGoodParts(emoji, splitTelegramHtml(emoji));

    const accents = 'e\u0301'.repeat(3000);
    const aparts = splitTelegramHtml(accents);
    expectGoodParts(accents, aparts);
    for (const p of aparts) expect(p.startsWith('\u0301')).toBe(false);

    const family = '👨‍👩‍👧'.repeat(700); // 8 units each
    const fparts = splitTelegramHtml(family);
    expectGoodParts(family, fparts);
    for (const p of fparts) {
      expect(p.startsWith('\u200D')).toBe(false);
      expect(p.endsWith('\u200D')).toBe(false);
      expect(p.length % 8).toBe(0);
    }

    const flags = '🇧🇷'.repeat(1500); // regional indicator pairs
    for (const p of splitTelegramHtml(flags)) expect(p.length % 4).toBe(0);
  });

  it('splits a 20,000-character lead into valid parts', () => {
    const lead = Array.from({ length: 400 }, (_, i) => sentence(i)).join(' ').slice(0, 20_000);
    const html = `#Mundo\n<b>Um título</b>\n\n${lead}\n\n🔗 <a href="https://example.com/a?x=1&amp;y=2">Leia mais</a>`;
    const parts = splitTelegramHtml(html);
    expectGoodParts(html, parts);
    expect(lead.length).toBe(20_000);
    expect(parts.length).toBeGreaterThanOrEqual(5);
    expect(parts.at(-1)!.endsWith('<a href="https://example.com/a?x=1&amp;y=2">Leia mais</a>')).toBe(true);
  });

  it('refuses invalid HTML and silly limits', () => {
    expect(() => splitTelegramHtml('<div>x</div>')).toThrow(/invalid Telegram HTML/);
    expect(() => splitTelegramHtml('x', 1)).toThrow(RangeError);
  });
});

describe('fitTelegram', () => {
  const url = 'https://img.example/photo.jpg';

  it('sends a photo when the caption fits', () => {
    const caption = `<b>${'x'.repeat(TELEGRAM_CAPTION_LIMIT - 1)}</b>y`;
    expect(fitTelegram(caption, { imageUrl: url, photo: true })).toEqual([{ kind: 'photo', text: caption, imageUrl: url }]);
  });

  it('sends text with the image as link preview when the caption does not fit', () => {
    const caption = 'x'.repeat(TELEGRAM_CAPTION_LIMIT + 1);
    expect(fitTelegram(caption, { imageUrl: url, photo: true, previewUrl: url })).toEqual([
      { kind: 'text', text: caption, previewUrl: url },
    ]);
  });

  it('measures captions after entity parsing, not in markup characters', () => {
    const caption = '&amp;'.repeat(1000); // 5000 characters of markup, 1000 of text
    expect(fitTelegram(caption, { imageUrl: url, photo: true })[0]!.kind).toBe('photo');
  });

  it('sends text when photos are off or there is no image', () => {
    expect(fitTelegram('hi', { imageUrl: url, photo: false })[0]!.kind).toBe('text');
    expect(fitTelegram('hi', { imageUrl: null, photo: true })[0]!.kind).toBe('text');
  });

  it('puts the preview on the first of several parts only', () => {
    const long = Array.from({ length: 300 }, (_, n) => sentence(n)).join('\n\n');
    const msgs = fitTelegram(long, { previewUrl: 'https://a.b' });
    expect(msgs.length).toBeGreaterThan(1);
    expect(msgs[0]!.previewUrl).toBe('https://a.b');
    expect(msgs.slice(1).every((m) => m.previewUrl === undefined && m.kind === 'text')).toBe(true);
  });

  it('gives no message for empty text', () => {
    expect(fitTelegram('')).toEqual([]);
  });
});

describe('fitWhatsApp', () => {
  const url = 'https://img.example/photo.jpg';

  it('sends an image only when the destination asks for photos and the caption fits', () => {
    expect(fitWhatsApp('*t*', { imageUrl: url, photo: true })).toEqual([{ kind: 'image', text: '*t*', imageUrl: url }]);
    expect(fitWhatsApp('*t*', { imageUrl: url, photo: false })[0]!.kind).toBe('text');
    expect(fitWhatsApp('x'.repeat(1025), { imageUrl: url, photo: true })[0]!.kind).toBe('text');
  });

  it('splits long text within 4096 UTF-16 units', () => {
    const long = Array.from({ length: 500 }, (_, n) => sentence(n)).join(' ');
    const msgs = fitWhatsApp(long, { previewUrl: 'https://a.b', preview: { title: 't', description: 'd' } });
    expect(msgs.length).toBeGreaterThan(1);
    for (const m of msgs) expect(m.text.length).toBeLessThanOrEqual(4096);
    expect(msgs[0]!.preview).toEqual({ title: 't', description: 'd' });
    expect(msgs.map((m) => m.text).join(' ')).toBe(long);
  });

  it('never splits a surrogate pair', () => {
    for (const p of splitPlainText('😀'.repeat(3000))) expect(p).toMatch(/^(😀)+$/u);
  });
});
