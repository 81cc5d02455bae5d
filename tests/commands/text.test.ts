import { describe, expect, it } from 'vitest';
import {
  MAX_INPUT,
  foldTopic,
  localeFor,
  parseCommand,
  parseHttpUrl,
  sanitizeInput,
  truncateEcho,
} from '../../src/commands/text.js';

describe('foldTopic', () => {
  it('ignores case, accents and extra spaces', () => {
    expect(foldTopic('Política')).toBe('politica');
    expect(foldTopic('POLÍTICA')).toBe(foldTopic('politica'));
    expect(foldTopic('  Mundo   e\tCiência ')).toBe('mundo e ciencia');
    expect(foldTopic('Eleições')).toBe('eleicoes');
  });

  it('folds decomposed input the same as composed input', () => {
    expect(foldTopic('Pol\u0069\u0301tica')).toBe('politica');
  });

  it('drops invisible characters', () => {
    expect(foldTopic('mun\u200Bdo\u200F')).toBe('mundo');
  });

  it('keeps emoji and other scripts instead of emptying them', () => {
    expect(foldTopic('🎉')).toBe('🎉');
    expect(foldTopic('عالم')).not.toBe('');
  });
});

describe('sanitizeInput', () => {
  it('removes control characters but keeps line breaks', () => {
    expect(sanitizeInput('/assinar\u0000 mun\u0007do\r\nmais')).toBe('/assinar mundo\nmais');
  });

  it('removes bidi overrides and zero-width characters', () => {
    expect(sanitizeInput('\u202E/start\u200B\u2066')).toBe('/start');
    expect(sanitizeInput('\uFEFF/ajuda')).toBe('/ajuda');
  });

  it('cuts very long input without leaving half an emoji', () => {
    const s = sanitizeInput('😀'.repeat(10_000));
    expect(s.length).toBeLessThanOrEqual(MAX_INPUT);
    expect(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/.test(s)).toBe(false);
  });

  it('drops lone surrogates', () => {
    expect(sanitizeInput('a\uD800b\uDC00c')).toBe('abc');
  });
});

describe('truncateEcho', () => {
  it('keeps short text as it is', () => {
    expect(truncateEcho('mundo')).toBe('mundo');
  });

  it('cuts to the limit on whole characters with an ellipsis', () => {
    const out = truncateEcho('🎉'.repeat(100), 10);
    expect(Array.from(out)).toHaveLength(10);
    expect(out.endsWith('…')).toBe(true);
  });

  it('puts everything on one line', () => {
    expect(truncateEcho('a\n\n b\u0001c')).toBe('a b c');
  });
});

describe('parseCommand', () => {
  it('returns null for free text', () => {
    expect(parseCommand('bom dia')).toBeNull();
  });

  it('splits name, mention and arguments', () => {
    expect(parseCommand('/Assinar@Manchete_Bot  Política  Já')).toEqual({
      name: 'assinar',
      word: 'Assinar',
      mention: 'Manchete_Bot',
      rest: 'Política  Já',
      args: ['Política', 'Já'],
    });
  });

  it('folds accented command names', () => {
    expect(parseCommand('/Últimas')?.name).toBe('ultimas');
  });

  it('gives an empty name when the slash is not followed by a name', () => {
    expect(parseCommand('/')?.name).toBe('');
    expect(parseCommand('/🎉')?.name).toBe('');
    expect(parseCommand('/a-b')?.name).toBe('');
  });
});

describe('localeFor', () => {
  it('maps pt* to pt-BR, other codes to English, none to the default', () => {
    expect(localeFor('pt-br', 'en')).toBe('pt-BR');
    expect(localeFor('pt', 'en')).toBe('pt-BR');
    expect(localeFor('PT-PT', 'en')).toBe('pt-BR');
    expect(localeFor('en-US', 'pt-BR')).toBe('en');
    expect(localeFor('es', 'pt-BR')).toBe('en');
    expect(localeFor(null, 'pt-BR')).toBe('pt-BR');
    expect(localeFor(null, 'en')).toBe('en');
    expect(localeFor('', 'en')).toBe('en');
  });
});

describe('parseHttpUrl', () => {
  it('accepts http and https, also inside <>', () => {
    expect(parseHttpUrl('https://site.com.br/materia')?.href).toBe('https://site.com.br/materia');
    expect(parseHttpUrl('<http://site.com/a>')?.hostname).toBe('site.com');
  });

  it('refuses other schemes, garbage and very long input', () => {
    for (const bad of ['ftp://site.com/x', 'javascript:alert(1)', 'file:///etc/passwd', 'site.com/x', 'not a url', '', `https://a.com/${'x'.repeat(3000)}`])
      expect(parseHttpUrl(bad)).toBeNull();
  });
});
