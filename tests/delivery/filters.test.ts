import { describe, expect, it } from 'vitest';
import type { Article } from '../../src/articles/article.js';
import { compileFilter, explainRouting, filterFor, FilterError, routeDecision, tokens } from '../../src/delivery/filters.js';

function article(over: Partial<Article> = {}): Article {
  return {
    id: 'a1',
    url: 'https://site.example/noticia/a1',
    title: 'Título neutro',
    lead: 'Um resumo sem nada de especial.',
    body: '',
    section: null,
    tags: [],
    imageUrl: null,
    imageCaption: null,
    imageCredit: null,
    author: null,
    publishedAt: null,
    updatedAt: null,
    feedUrl: 'https://site.example/feed',
    ...over,
  };
}

describe('tokens', () => {
  it('folds case and accents and splits at punctuation', () => {
    expect(tokens('Câmara-dos  DEPUTADOS, hoje!')).toEqual(['camara', 'dos', 'deputados', 'hoje']);
  });
});

describe('compileFilter', () => {
  it('without rules every article passes', () => {
    expect(compileFilter({})(article())).toEqual({ pass: true, reason: 'no filter' });
  });

  it('include is any-of: one matching rule is enough, none matching refuses', () => {
    const f = compileFilter({ include: { keywords: ['Senado'], sections: ['Política'], tags: ['eleições'] } });
    expect(f(article({ title: 'O Senado vota hoje' }))).toEqual({ pass: true, reason: 'included by keyword "Senado" in title' });
    expect(f(article({ section: 'politica' }))).toEqual({ pass: true, reason: 'included by section "Política"' });
    expect(f(article({ tags: ['Eleicoes'] }))).toEqual({ pass: true, reason: 'included by tag "eleições"' });
    expect(f(article({ section: 'Mundo', tags: ['Copa'] }))).toEqual({ pass: false, reason: 'matches no include rule' });
  });

  it('exclude is none-of: any matching rule refuses, even when an include rule matched', () => {
    const f = compileFilter({ include: { keywords: ['Senado'] }, exclude: { keywords: ['horóscopo'], sections: ['Esportes'] } });
    expect(f(article({ title: 'Senado e futebol', section: 'Esportes' }))).toEqual({ pass: false, reason: 'excluded by section "Esportes"' });
    expect(f(article({ title: 'Senado', lead: 'Veja o horoscopo do dia' }))).toEqual({ pass: false, reason: 'excluded by keyword "horóscopo" in lead' });
    expect(f(article({ title: 'Senado aprova' })).pass).toBe(true);
    // Exclude alone: everything else passes.
    const only = compileFilter({ exclude: { sections: ['Esportes'] } });
    expect(only(article({ section: 'Mundo' }))).toEqual({ pass: true, reason: 'matches no exclude rule' });
    expect(only(article({ section: 'esportes' })).pass).toBe(false);
  });

  it('keywords ignore case and accents both ways', () => {
    expect(compileFilter({ include: { keywords: ['camara'] } })(article({ title: 'A Câmara decide' })).pass).toBe(true);
    expect(compileFilter({ include: { keywords: ['Câmara'] } })(article({ title: 'a CAMARA decide' })).pass).toBe(true);
  });

  it('keywords match whole words only', () => {
    const f = compileFilter({ include: { keywords: ['STF'] } });
    expect(f(article({ title: 'O STF decide' })).pass).toBe(true);
    expect(f(article({ title: 'STF: decisão' })).pass).toBe(true);
    expect(f(article({ title: 'A STFX decide' })).pass).toBe(false);
    expect(f(article({ title: 'XSTF decide' })).pass).toBe(false);
  });

  it('several words match as a phrase, punctuation between them counting as space', () => {
    const f = compileFilter({ include: { keywords: ['Câmara dos Deputados'] } });
    expect(f(article({ lead: 'Na camara-dos-deputados, ontem' }))).toEqual({ pass: true, reason: 'included by keyword "Câmara dos Deputados" in lead' });
    expect(f(article({ lead: 'Na Câmara, dos deputados' })).pass).toBe(true);
    expect(f(article({ lead: 'A Câmara ouviu dos deputados' })).pass).toBe(false);
    expect(f(article({ lead: 'Câmara dos Deputadosx' })).pass).toBe(false);
  });

  it('keywords look in the tags, one tag at a time', () => {
    const f = compileFilter({ include: { keywords: ['reforma tributária'] } });
    expect(f(article({ tags: ['Reforma Tributaria'] }))).toEqual({ pass: true, reason: 'included by keyword "reforma tributária" in tags' });
    expect(f(article({ tags: ['reforma', 'tributária'] })).pass).toBe(false);
  });

  it('sections compare the whole folded name, tags any tag', () => {
    const f = compileFilter({ include: { sections: ['Política'] } });
    expect(f(article({ section: 'Política Nacional' })).pass).toBe(false);
    expect(f(article({ section: '  POLITICA ' })).pass).toBe(true);
    expect(f(article({ tags: ['Política'] })).pass).toBe(false);
    const t = compileFilter({ include: { tags: ['Lula'] } });
    expect(t(article({ tags: ['Brasil', 'lula'] })).pass).toBe(true);
    expect(t(article({ title: 'Lula' })).pass).toBe(false);
  });

  it('authors match a name in the author line', () => {
    const f = compileFilter({ include: { authors: ['Maria Silva'] } });
    expect(f(article({ author: 'Por Maria Silva e João Souza' }))).toEqual({ pass: true, reason: 'included by author "Maria Silva"' });
    expect(f(article({ author: 'Maria Silvana' })).pass).toBe(false);
    expect(f(article({ author: null })).pass).toBe(false);
  });

  it('match runs RE2 over title, lead and tags', () => {
    const f = compileFilter({ include: { match: '(?i)\\bSTF\\b' } });
    expect(f(article({ title: 'o stf decide' }))).toEqual({ pass: true, reason: 'included by pattern (?i)\\bSTF\\b' });
    expect(f(article({ lead: 'e o STF?' })).pass).toBe(true);
    expect(f(article({ tags: ['STF'] })).pass).toBe(true);
    expect(f(article({ title: 'STFX' })).pass).toBe(false);
    // Without (?i), case counts.
    expect(compileFilter({ include: { match: '\\bSTF\\b' } })(article({ title: 'o stf' })).pass).toBe(false);
    // ^ and $ apply to the whole text unless (?m): title, lead and tags are on their own lines.
    expect(compileFilter({ include: { match: '(?m)^Urgente$' } })(article({ tags: ['Urgente'] })).pass).toBe(true);
  });

  it('a pattern catastrophic for RegExp runs in time linear in the input', () => {
    const input = `${'a'.repeat(50_000)}!`;
    const a = article({ title: input });
    const time = (pattern: string) => {
      const f = compileFilter({ include: { match: pattern } });
      f(a); // warm up
      const t0 = performance.now();
      for (let i = 0; i < 3; i++) expect(f(a).pass).toBe(false);
      return performance.now() - t0;
    };
    const simple = time('a$');
    const evil = time('(a+)+$');
    // Backtracking would take longer than the age of the universe; RE2 takes about as long as for `a$`.
    expect(evil / Math.max(simple, 1)).toBeLessThan(25);
  });

  it('an invalid pattern throws FilterError naming the destination and the pattern', () => {
    expect(() => compileFilter({ include: { match: '(a' } }, 'destination telegram:-100:42')).toThrow(FilterError);
    expect(() => compileFilter({ exclude: { match: 'x(?=y)' } }, 'destination telegram:-100:42')).toThrow(
      /^destination telegram:-100:42: exclude\.match "x\(\?=y\)" is not a valid RE2 regular expression: .*unsupported Perl syntax/,
    );
  });

  it('empty lists are no rule', () => {
    expect(compileFilter({ include: { authors: [], keywords: [] } })(article())).toEqual({ pass: true, reason: 'no filter' });
  });
});

describe('routeDecision and explainRouting', () => {
  const dests = [
    { id: 'telegram:@todos', options: {} },
    { id: 'telegram:-100:42', options: { include: { keywords: ['Senado'] } } },
    { id: 'telegram:@mundo', options: { sections: ['Mundo'] } },
    { id: 'telegram:@feed', options: { feeds: ['https://outro.example/feed'] } },
    { id: 'telegram:@morto', options: {}, status: 'dead' },
  ];

  it('gives each destination its verdict and reason', () => {
    expect(explainRouting(article({ title: 'O Senado vota', section: 'Política' }), dests)).toEqual([
      { destination: 'telegram:@todos', pass: true, reason: 'no filter' },
      { destination: 'telegram:-100:42', pass: true, reason: 'included by keyword "Senado" in title' },
      { destination: 'telegram:@mundo', pass: false, reason: 'section/tags not in its sections (Mundo)' },
      { destination: 'telegram:@feed', pass: false, reason: 'feed https://site.example/feed is not in its feeds' },
      { destination: 'telegram:@morto', pass: false, reason: 'destination is dead' },
    ]);
  });

  it('sections still match tags, as before filters', () => {
    expect(routeDecision(article({ tags: ['mundo'] }), dests[2]!).pass).toBe(true);
  });

  it('the caller may give the feeds (a push target takes all)', () => {
    expect(routeDecision(article(), dests[3]!, null).pass).toBe(true);
  });

  it('compiles each destination once while its rules stay the same', () => {
    const d = { id: 'telegram:@cache', options: { include: { keywords: ['x'] } } };
    expect(filterFor(d)).toBe(filterFor({ ...d, options: { include: { keywords: ['x'] } } }));
    expect(filterFor(d)).not.toBe(filterFor({ ...d, options: { include: { keywords: ['y'] } } }));
  });
});
