import { describe, expect, it } from 'vitest';
import {
  htmlToPlain,
  telegramTextLength,
  tokenizeTelegramHtml,
  validateTelegramHtml,
} from '../../src/render/telegram-html.js';

const ok = (html: string) => expect(validateTelegramHtml(html), html).toEqual({ ok: true });
const bad = (html: string, pattern: RegExp) => {
  const r = validateTelegramHtml(html);
  expect(r.ok, html).toBe(false);
  if (!r.ok) expect(r.error).toMatch(pattern);
};

describe('validateTelegramHtml', () => {
  it('accepts every tag Telegram documents', () => {
    ok('<b>b</b> <strong>s</strong> <i>i</i> <em>e</em> <u>u</u> <ins>i</ins> <s>s</s> <strike>s</strike> <del>d</del>');
    ok('<span class="tg-spoiler">x</span> <tg-spoiler>y</tg-spoiler>');
    ok('<a href="https://example.com/?a=1&amp;b=2">link</a> <a href="tg://user?id=123">user</a>');
    ok('<code>x &lt; y</code> <pre>block</pre> <pre><code class="language-python">print(1)</code></pre>');
    ok('<blockquote>q</blockquote> <blockquote expandable>long</blockquote>');
    ok('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>');
    ok('<b>bold <i>italic <u>under <s>strike <tg-spoiler>spoiler</tg-spoiler></s></u></i></b>');
    ok('<a href="https://x.y"><b>bold link</b></a> <b><a href="https://x.y">link in bold</a></b>');
    ok("<a href='https://single.quotes'>ok</a> <B>upper case tag</B>");
  });

  it('accepts the four named entities and numeric ones', () => {
    ok('&lt; &gt; &amp; &quot; &#233; &#xE9; &#X1F600; &#128512;');
    ok('He said "hi" and left'); // quotes need no escaping in text
  });

  it('rejects tags outside the subset', () => {
    bad('<script>alert(1)</script>', /unsupported tag <script>/);
    bad('<div>x</div>', /unsupported tag <div>/);
    bad('a<br>b', /unsupported tag <br>/);
    bad('a<br/>b', /self-closing/);
    bad('<p>x</p>', /unsupported tag <p>/);
    bad('<!-- note -->x', /comments/);
  });

  it('rejects unbalanced and crossed tags', () => {
    bad('<b>bold', /<b> opened at character 0 is never closed/);
    bad('bold</b>', /closes nothing/);
    bad('<b><i>x</b></i>', /<\/b> closes <i>/);
  });

  it('rejects bad attributes', () => {
    bad('<a>no href</a>', /needs a non-empty href/);
    bad('<a href="">empty</a>', /needs a non-empty href/);
    bad('<a href=https://x.y>unquoted</a>', /must be quoted/);
    bad('<a href="x" target="_blank">t</a>', /attribute target is not allowed/);
    bad('<b class="x">b</b>', /attribute class is not allowed on <b>/);
    bad('<span>plain span</span>', /tg-spoiler/);
    bad('<code class="language-js">standalone</code>', /only on <code> directly inside <pre>/);
    bad('<tg-emoji>👍</tg-emoji>', /emoji-id/);
    bad('<a href="https://x.y/?a=1&b=2">bare amp in href</a>', /bare "&"/);
    bad('<a href="x" href="y">twice</a>', /appears twice/);
  });

  it('rejects bare & < > and unknown entities', () => {
    bad('Tom & Jerry', /bare "&"/);
    bad('a < b', /bare "<"/);
    bad('a > b', /bare ">"/);
    bad('&nbsp;', /unsupported entity &nbsp;/);
    bad('&amp', /bare "&"/);
    bad('&#0;', /not a valid Unicode character/);
    bad('&#xD800;', /not a valid Unicode character/);
    bad('&#x110000;', /not a valid Unicode character/);
  });

  it('rejects nesting Telegram does not allow', () => {
    bad('<a href="x"><a href="y">in</a></a>', /<a> cannot be inside <a>/);
    bad('<code><b>x</b></code>', /inside <code>/);
    bad('<pre><b>x</b></pre>', /inside <pre>/);
    bad('<blockquote><blockquote>x</blockquote></blockquote>', /cannot be inside <blockquote>/);
    bad('<b><code>x</code></b>', /cannot be inside formatting/);
  });

  it('rejects lone surrogates', () => {
    bad('broken \uD83D text', /lone UTF-16 surrogate/);
  });

  it('never throws, whatever the input', () => {
    for (const s of ['<', '>', '&', '<<b>>', '</', '<a href="', '<a href="x"', '&#', '&#x;', '<b/>', '\u0000']) {
      expect(() => validateTelegramHtml(s)).not.toThrow();
    }
  });
});

describe('telegramTextLength', () => {
  it('counts the text after parsing, in UTF-16 units', () => {
    expect(telegramTextLength('<b>abc</b>')).toBe(3);
    expect(telegramTextLength('&lt;&amp;&gt;&quot;')).toBe(4);
    expect(telegramTextLength('<a href="https://very.long/url">x</a>')).toBe(1);
    expect(telegramTextLength('😀')).toBe(2); // a surrogate pair
    expect(telegramTextLength('&#x1F600;')).toBe(2);
    expect(telegramTextLength('👨‍👩‍👧')).toBe(8); // 3 emoji + 2 ZWJ
    expect(telegramTextLength('e\u0301')).toBe(2); // combining acute accent
    expect(telegramTextLength('\u200Fשלום\u200E')).toBe(6); // RTL and LTR marks count
  });

  it('estimates invalid HTML by its plain text', () => {
    expect(telegramTextLength('<div>abc</div>')).toBe(3);
  });
});

describe('htmlToPlain', () => {
  it('removes tags, decodes entities and keeps link targets', () => {
    expect(htmlToPlain('<b>Título</b>\n\n🔗 <a href="https://x.y/?a=1&amp;b=2">Leia mais</a>')).toBe(
      'Título\n\n🔗 Leia mais (https://x.y/?a=1&b=2)',
    );
    expect(htmlToPlain('<a href="https://x.y">https://x.y</a>')).toBe('https://x.y');
    expect(htmlToPlain('<a href="https://x.y"></a>')).toBe('https://x.y');
    expect(htmlToPlain('&lt;script&gt; &amp; &quot;q&quot; &#233;')).toBe('<script> & "q" é');
  });

  it('copes with invalid input (the reason a plain fallback is needed)', () => {
    expect(htmlToPlain('<div>a < b & c</div><br>d')).toBe('a < b & c\nd');
    expect(htmlToPlain('<b>unclosed')).toBe('unclosed');
    expect(htmlToPlain('&unknown; &nbsp;')).toBe('&unknown; \u00a0');
  });
});

describe('tokenizeTelegramHtml', () => {
  it('gives entities their own tokens', () => {
    const toks = tokenizeTelegramHtml('a&amp;b<b>c</b>');
    expect(toks.map((t) => [t.type, t.raw])).toEqual([
      ['text', 'a'],
      ['text', '&amp;'],
      ['text', 'b'],
      ['open', '<b>'],
      ['text', 'c'],
      ['close', '</b>'],
    ]);
  });
});
