import { describe, expect, it } from 'vitest';
import { sentenceEnds, splitSentences, summarize } from '../../src/articles/summary.js';

describe('splitSentences', () => {
  it('splits at . ! ? … followed by a capital', () => {
    expect(splitSentences('Primeira frase. Segunda! Terceira? Quarta… Quinta.')).toEqual([
      'Primeira frase.',
      'Segunda!',
      'Terceira?',
      'Quarta…',
      'Quinta.',
    ]);
  });

  it('keeps closing quotes and brackets with their sentence', () => {
    expect(splitSentences('Ele disse: "Basta." Depois saiu. (Fim.) Outra.')).toEqual(['Ele disse: "Basta."', 'Depois saiu.', '(Fim.)', 'Outra.']);
    expect(splitSentences('Ela falou “chega.” E foi.')).toEqual(['Ela falou “chega.”', 'E foi.']);
  });

  it('does not split abbreviations, initials, decimals or domains', () => {
    expect(splitSentences('O Sr. Silva e a Dra. Souza chegaram. O Prof. Lima não.')).toEqual([
      'O Sr. Silva e a Dra. Souza chegaram.',
      'O Prof. Lima não.',
    ]);
    expect(splitSentences('J. K. Rowling falou com o Mr. Smith nos U.S. ontem.')).toHaveLength(1);
    expect(splitSentences('A inflação foi de 3.5 por cento. Veja em www.ibge.gov.br hoje.')).toEqual([
      'A inflação foi de 3.5 por cento.',
      'Veja em www.ibge.gov.br hoje.',
    ]);
    expect(splitSentences('A reunião é em Sept. 24 no local.')).toHaveLength(1);
  });

  it('splits after an acronym such as EUA. that ends a sentence', () => {
    expect(splitSentences('Ele viajou aos EUA. O presidente o recebeu.')).toEqual(['Ele viajou aos EUA.', 'O presidente o recebeu.']);
  });

  it('does not split when the next word is lowercase', () => {
    expect(splitSentences('Ficou assim... e depois mudou.')).toHaveLength(1);
  });

  it('always splits at paragraph breaks', () => {
    expect(splitSentences('Título sem ponto\nTexto do parágrafo.')).toEqual(['Título sem ponto', 'Texto do parágrafo.']);
  });

  it('returns nothing for blank input', () => {
    expect(splitSentences('  \n ')).toEqual([]);
    expect(sentenceEnds('')).toEqual([]);
  });
});

const LONG =
  'O líder norte-coreano Kim Jong Un se reuniu com o secretário do Conselho de Segurança da Rússia, Sergei Shoigu, em Pyongyang. ' +
  'Eles discutiram o aprofundamento do diálogo estratégico entre os dois países, informou a mídia estatal KCNA no sábado. ' +
  'Kim disse que a Coreia do Norte continuará a expandir a cooperação com a Rússia. ' +
  'Os Estados Unidos e a Ucrânia afirmam que Kim está ajudando a Rússia em sua invasão.';

describe('summarize', () => {
  it('returns short text whole, with whitespace normalised', () => {
    expect(summarize('  Curto   e\n\n direto.  ', 300)).toBe('Curto e direto.');
  });

  it('cuts after the last sentence that fits', () => {
    const out = summarize(LONG, 300);
    expect(out.length).toBeLessThanOrEqual(300);
    expect(out).toBe(
      'O líder norte-coreano Kim Jong Un se reuniu com o secretário do Conselho de Segurança da Rússia, Sergei Shoigu, em Pyongyang. ' +
        'Eles discutiram o aprofundamento do diálogo estratégico entre os dois países, informou a mídia estatal KCNA no sábado.',
    );
  });

  it('never returns more than maxChars, for any limit', () => {
    for (let max = 1; max <= LONG.length + 5; max += 7) {
      expect(summarize(LONG, max).length).toBeLessThanOrEqual(max);
    }
  });

  it('cuts at a word boundary with an ellipsis when no sentence fits', () => {
    const text = 'palavra '.repeat(100);
    const out = summarize(text, 50);
    expect(out.endsWith('palavra…')).toBe(true);
    expect(out.length).toBeLessThanOrEqual(50);
  });

  it('prefers a word cut to a sentence cut that keeps too little', () => {
    const text = `Oi. ${'muito texto sem ponto '.repeat(30)}`;
    const out = summarize(text, 200);
    expect(out.endsWith('…')).toBe(true);
    expect(out.length).toBeGreaterThan(150);
  });

  it('never cuts inside a word', () => {
    const words = 'Presidente anunciou medidas econômicas extraordinárias hoje'.split(' ');
    const text = `${words.join(' ')} ${words.join(' ')}`;
    // From the first limit where the first word and the ellipsis fit (below it, the documented hard cut).
    for (let max = 11; max < text.length; max += 3) {
      const out = summarize(text, max).replace(/…$/, '');
      for (const w of out.split(' ')) expect(words).toContain(w);
    }
  });

  it('never cuts inside a URL and keeps the ellipsis off it', () => {
    const text = `Veja o documento completo em https://www.example.com/documentos/relatorio-final-2018.pdf e comente ${'mais '.repeat(30)}`;
    for (let max = 40; max < 120; max += 5) {
      const out = summarize(text, max);
      expect(out.length).toBeLessThanOrEqual(max);
      const url = /https?:\/\/\S*/.exec(out)?.[0];
      if (url) expect(url).toBe('https://www.example.com/documentos/relatorio-final-2018.pdf');
    }
  });

  it('strips dangling punctuation before the ellipsis', () => {
    const out = summarize(`Uma lista de coisas: maçãs, peras, uvas, ${'laranjas '.repeat(40)}`, 42);
    expect(out).not.toMatch(/[,:;]…$/);
  });

  it('cuts a single giant word without splitting a surrogate pair', () => {
    const giant = '😀'.repeat(3000);
    const out = summarize(giant, 101);
    expect(out.length).toBeLessThanOrEqual(101);
    expect(out.endsWith('…')).toBe(true);
    expect(out.slice(0, -1)).toMatch(/^(?:😀)+$/u);
  });

  it('does not treat abbreviations or decimals as sentence ends', () => {
    const text = `A taxa subiu 3.5 pontos, disse o Sr. Almeida ao jornal. ${'Depois '.repeat(60)}`;
    expect(summarize(text, 80)).toBe('A taxa subiu 3.5 pontos, disse o Sr. Almeida ao jornal.');
  });

  it('joins paragraphs with a space and may cut at a paragraph end', () => {
    expect(summarize('Primeiro parágrafo sem ponto final\n\nSegundo parágrafo que é bem mais longo e não cabe no limite de jeito nenhum', 60)).toBe(
      'Primeiro parágrafo sem ponto final',
    );
  });

  it('handles empty text', () => {
    expect(summarize('', 300)).toBe('');
  });
});
