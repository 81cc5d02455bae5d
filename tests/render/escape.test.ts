import { describe, expect, it } from 'vitest';
import { escapeHtml, escapeWhatsApp, plainText } from '../../src/render/escape.js';
import { validateTelegramHtml } from '../../src/render/telegram-html.js';

describe('plainText', () => {
  it('turns null and undefined into empty text and other values into strings', () => {
    expect(plainText(null)).toBe('');
    expect(plainText(undefined)).toBe('');
    expect(plainText(42)).toBe('42');
  });

  it('drops control characters but keeps tabs and newlines', () => {
    expect(plainText('a\u0000b\u0007c\u001Bd\u007Fe\tf\ng')).toBe('abcde\tf\ng');
    expect(plainText('one\r\ntwo\rthree')).toBe('one\ntwo\nthree');
  });

  it('replaces lone surrogates and keeps real pairs', () => {
    expect(plainText('x\uD83Dy')).toBe('x\uFFFDy');
    expect(plainText('x\uDE00y')).toBe('x\uFFFDy');
    expect(plainText('😀')).toBe('😀');
  });

  it('closes bidi overrides and isolates so they stop at the end of the value', () => {
    expect(plainText('\u202Eevil')).toBe('\u202Eevil\u202C');
    expect(plainText('\u2067عربي')).toBe('\u2067عربي\u2069');
    expect(plainText('\u202Bok\u202C')).toBe('\u202Bok\u202C');
    expect(plainText('\u200Fmark only')).toBe('\u200Fmark only'); // marks need no closing
  });
});

describe('escapeHtml', () => {
  it('escapes & < > and double quotes', () => {
    expect(escapeHtml('<script>alert("x")</script> & more')).toBe(
      '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more',
    );
    expect(escapeHtml("it's")).toBe("it's");
  });

  it('makes a URL with quotes and ampersands safe inside href', () => {
    const url = 'https://example.com/?q="a"&b=<c>';
    const html = `<a href="${escapeHtml(url)}">x</a>`;
    expect(html).toBe('<a href="https://example.com/?q=&quot;a&quot;&amp;b=&lt;c&gt;">x</a>');
    expect(validateTelegramHtml(html)).toEqual({ ok: true });
  });

  it('does not double-escape by accident: entities in the input are text', () => {
    expect(escapeHtml('&amp;')).toBe('&amp;amp;');
  });

  it('leaves emoji, combining marks and RTL text intact', () => {
    expect(escapeHtml('Olá 👋🏽 e\u0301 \u200Fשלום')).toBe('Olá 👋🏽 e\u0301 \u200Fשלום');
  });
});

describe('escapeWhatsApp', () => {
  it('replaces markup characters with look-alikes', () => {
    expect(escapeWhatsApp('*bold* _it_ ~del~ ```mono``` `code`')).toBe(
      '∗bold∗ ˍitˍ ∼del∼ ˋˋˋmonoˋˋˋ ˋcodeˋ',
    );
  });

  it('neutralises a quote marker at a line start only', () => {
    expect(escapeWhatsApp('> quoted\na > b\n  > indented')).toBe('› quoted\na > b\n  › indented');
  });

  it('keeps _ and ~ inside URLs so links keep working', () => {
    const url = 'https://example.com/~ana/a_b_c?q=~1&r=x_y';
    expect(escapeWhatsApp(url)).toBe(url);
    expect(escapeWhatsApp(`veja _isto_ em ${url} e *aquilo*`)).toBe(`veja ˍistoˍ em ${url} e ∗aquilo∗`);
  });

  it('does not let a URL carry markup: trailing markup is outside it, * and ` never survive', () => {
    expect(escapeWhatsApp('_veja https://x.y/a_')).toBe('ˍveja https://x.y/aˍ');
    expect(escapeWhatsApp('https://x.y/*bold*/z')).toBe('https://x.y/∗bold∗/z');
    expect(escapeWhatsApp('(https://x.y/a_b).')).toBe('(https://x.y/a_b).');
  });

  it('passes plain text through unchanged', () => {
    expect(escapeWhatsApp('Política: Lula & Bolsonaro <debate>')).toBe('Política: Lula & Bolsonaro <debate>');
  });
});
