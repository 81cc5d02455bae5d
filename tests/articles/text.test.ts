import { describe, expect, it } from 'vitest';
import { collapseWhitespace, decodeEntities, htmlToText, inlineText, normalizeWhitespace } from '../../src/articles/text.js';

describe('decodeEntities', () => {
  it.each([
    ['&amp; &lt; &gt; &quot; &apos;', '& < > " \''],
    ['Ol&aacute;, S&atilde;o Paulo, a&ccedil;&atilde;o, &Eacute;', 'Olá, São Paulo, ação, É'],
    ['&nbsp;', '\u00A0'],
    ['&ldquo;x&rdquo; &ndash; &mdash; &hellip; &euro;', '“x” – — … €'],
    ['&#233;&#xE9;&#XE9;', 'ééé'],
    ['&#x1F62D; &#128557;', '😭 😭'],
    ['&#150; &#147;x&#148;', '– “x”'],
    ['&#0; &#xD800; &#x110000; &#xFFFFFFFF;', '\uFFFD \uFFFD \uFFFD \uFFFD'],
    ['&bogus; AT&T &amp', '&bogus; AT&T &amp'],
    ['&amp;amp;', '&amp;'],
    ['&alpha;&Omega;&sigmaf;', 'αΩς'],
  ])('%s', (input, expected) => {
    expect(decodeEntities(input)).toBe(expected);
  });

  it('returns text without & untouched', () => {
    expect(decodeEntities('plain')).toBe('plain');
  });
});

describe('normalizeWhitespace and collapseWhitespace', () => {
  it('keeps paragraphs, trims lines, collapses spaces and blank lines', () => {
    expect(normalizeWhitespace('  a \t b  \r\n\r\n\r\n\n  c\u00A0\u00A0d \n')).toBe('a b\n\nc d');
  });

  it('removes invisible characters', () => {
    expect(normalizeWhitespace('a\u200Bb\uFEFFc\u00ADd')).toBe('abcd');
  });

  it('collapses everything to one line', () => {
    expect(collapseWhitespace('  a\n\n b\t\u2003c  ')).toBe('a b c');
  });
});

describe('htmlToText', () => {
  it('separates paragraphs by a blank line and turns <br> into a newline', () => {
    expect(htmlToText('<p>Um</p><p>Dois<br>Três<br/>Quatro</p>')).toBe('Um\n\nDois\nTrês\nQuatro');
  });

  it('keeps only the text of links and drops images', () => {
    expect(htmlToText('<p>Leia <a href="https://x.com/a?b=1&amp;c=2">o relatório</a> <img src="a.jpg" alt="foto">agora.</p>')).toBe(
      'Leia o relatório agora.',
    );
  });

  it('drops scripts, styles, iframes and comments with their content', () => {
    const html = '<p>A</p><script>var x = "<p>no</p>";</script><style>p { color: red }</style><!-- hidden --><iframe src="x">frame</iframe><p>B</p>';
    expect(htmlToText(html)).toBe('A\n\nB');
  });

  it('drops figure captions unless asked to keep them', () => {
    const html = '<figure><img src="a.jpg"><figcaption>Kim (Foto: KCNA)</figcaption></figure><p>Texto.</p>';
    expect(htmlToText(html)).toBe('Texto.');
    expect(htmlToText(html, { keepFigcaptions: true })).toBe('Kim (Foto: KCNA)\n\nTexto.');
  });

  it('decodes entities after removing tags, so escaped markup stays visible', () => {
    expect(htmlToText('<p>&lt;script&gt; &amp; &eacute;</p>')).toBe('<script> & é');
  });

  it('treats source whitespace as a space, not as layout', () => {
    expect(htmlToText('<p>uma\n   linha\n\tsó</p>\n\n\n<p>outra</p>')).toBe('uma linha só\n\noutra');
  });

  it('does not glue inline elements together or split words', () => {
    expect(htmlToText('<p><strong>Brasília</strong>, <em>24</em>  de setembro</p>')).toBe('Brasília, 24 de setembro');
    expect(htmlToText('<p>pala<b>vra</b></p>')).toBe('palavra');
  });

  it('puts list items on their own lines and table cells apart', () => {
    expect(htmlToText('<ul><li>um</li><li>dois</li></ul><table><tr><td>a</td><td>b</td></tr></table>')).toBe('um\ndois\n\na b');
  });

  it('unwraps CDATA and ignores doctype and processing instructions', () => {
    expect(htmlToText('<?xml version="1.0"?><!DOCTYPE html><![CDATA[<p>Olá</p>]]>')).toBe('Olá');
  });

  it('handles attributes holding ">"', () => {
    expect(htmlToText('<p title="a > b">texto</p>')).toBe('texto');
  });

  it('unescapes HTML that a feed encoded twice', () => {
    expect(htmlToText('&lt;p&gt;Primeiro&lt;/p&gt;&lt;p&gt;Segundo &amp;amp; fim&lt;/p&gt;')).toBe('Primeiro\n\nSegundo & fim');
  });

  it('does not unescape plain text that mentions a tag name', () => {
    expect(htmlToText('Use &lt;b&gt; para negrito')).toBe('Use <b> para negrito');
  });

  it('survives malformed markup', () => {
    expect(htmlToText('<p>aberto <b>sem fechar <i>nada')).toBe('aberto sem fechar nada');
    expect(htmlToText('2 < 3 e 5 > 4')).toBe('2 < 3 e 5 > 4');
    expect(htmlToText('<!-- nunca fecha')).toBe('');
    expect(htmlToText('')).toBe('');
  });

  it('handles big inputs quickly enough to be called per feed item', () => {
    const html = '<p>Parágrafo com <a href="#">link</a> e &amp; entidade.</p>'.repeat(5000);
    const text = htmlToText(html);
    expect(text.split('\n\n')).toHaveLength(5000);
  });
});

describe('inlineText', () => {
  it('strips tags, decodes entities and collapses whitespace for titles', () => {
    expect(inlineText('  <b>Kim</b> &amp; Shoigu:\n <i>&quot;interesses&quot;</i> ')).toBe('Kim & Shoigu: "interesses"');
    expect(inlineText('Hel<b>lo</b><br>world')).toBe('Hello world');
  });

  it('accepts missing values', () => {
    expect(inlineText(null)).toBe('');
    expect(inlineText(undefined)).toBe('');
  });
});

describe('only real HTML tags are markup', () => {
  it('keeps angle-bracketed words, hearts and comparisons of titles as text', () => {
    expect(inlineText('Lula & Xi discutem <comércio> em reunião "bilateral"')).toBe('Lula & Xi discutem <comércio> em reunião "bilateral"');
    expect(inlineText('Lula &amp; Xi discutem &lt;comércio&gt; em reunião')).toBe('Lula & Xi discutem <comércio> em reunião');
    expect(inlineText('Eu <3 Recife')).toBe('Eu <3 Recife');
    expect(inlineText('a < b > c')).toBe('a < b > c');
    expect(inlineText('<Lula> e <b>Xi</b>')).toBe('<Lula> e Xi');
  });

  it('strips real tags, custom and namespaced elements, in titles and summaries', () => {
    expect(inlineText('<em>Kim</em> &amp; <span class="x">Shoigu</span><o:p></o:p>')).toBe('Kim & Shoigu');
    expect(htmlToText('<p>Um <amp-img src="a.jpg"></amp-img>lead <comércio> aqui</p><FONT color=red>fim</FONT>')).toBe('Um lead <comércio> aqui\n\nfim');
  });
});
