import { describe, expect, it } from 'vitest';
import { DEFAULT_BOILERPLATE, INLINE_BOILERPLATE, LINE_BOILERPLATE, stripBoilerplate } from '../../src/articles/boilerplate.js';

const BODY1 = 'O governo anunciou nesta segunda-feira um novo pacote de medidas econômicas para conter a inflação.';
const BODY2 = 'Segundo o ministro, as medidas entram em vigor no próximo mês e valem até o fim do ano.';

/** Text with the promo line between two real paragraphs: the promo goes, both paragraphs stay. */
function dropsLine(promo: string): void {
  const out = stripBoilerplate(`${BODY1}\n\n${promo}\n\n${BODY2}`);
  expect(out).toBe(`${BODY1}\n\n${BODY2}`);
}

describe('stripBoilerplate: promotional lines (Portuguese)', () => {
  it.each([
    '✅ Receba as notícias do Brasil 247 e da TV 247 no canal do Brasil 247 e na comunidade 247 no WhatsApp.',
    'Receba as principais notícias do dia no seu e-mail.',
    '👉 Entre no canal do Jornal no WhatsApp e receba as notícias',
    'Participe da nossa comunidade no Telegram',
    'Siga-nos no Instagram, no X e no TikTok.',
    'Siga o Jornal no Google News',
    'Acompanhe a gente nas redes sociais',
    'Assine o 247, apoie por Pix, inscreva-se na TV 247, no canal Cortes 247 e assista:',
    'Assine já e tenha acesso ilimitado.',
    'Seja assinante e apoie o jornalismo profissional.',
    'Já é assinante? Faça login.',
    'Este conteúdo é exclusivo para assinantes.',
    'Apoie o jornalismo independente: contribua com qualquer valor via Pix.',
    'Inscreva-se no nosso canal no YouTube.',
    'Cadastre-se para receber a newsletter.',
    'iBest: 247 é o melhor canal de política do Brasil no voto popular',
    'Leia também: Kim visita Putin em Moscou',
    'LEIA MAIS: Governo anuncia medidas',
    'Veja também - Os destaques do dia',
    'Continue lendo',
    'Clique aqui para ler a íntegra',
    'Foto: Fulano de Tal/Agência Brasil',
    'Imagem: Reprodução/Instagram',
    '(Reportagem de Joyce Lee)',
    '(Com informações da Reuters)',
    'Publicidade',
    'Continua após a publicidade',
    'Compartilhe',
    'Compartilhar: Facebook | WhatsApp',
    'Facebook Twitter WhatsApp E-mail',
    'HOME > Mundo',
    'Início › Política',
    'Kim Jong-un encontra-se com Sergei Shoigu, secretário do Conselho de Segurança da Rússia (Foto: KCNA via REUTERS)',
    'O presidente discursa em Brasília | Foto: Ricardo Stuckert/PR',
  ])('drops %s', (promo) => dropsLine(promo));
});

describe('stripBoilerplate: promotional lines (English)', () => {
  it.each([
    'Subscribe to our newsletter for the latest news.',
    'Sign up for our daily briefing',
    'Sign up now!',
    'Follow us on Twitter and Facebook.',
    'Follow The Guardian on Instagram',
    'Like us on Facebook',
    'Join us on Telegram',
    'Read more: How the deal was made',
    'See also: The full list',
    'Continue reading',
    'Read the full story',
    'Share this article',
    'Share on Facebook',
    'Advertisement',
    'Story continues below',
    'Photo: AP',
    '(Reporting by Joyce Lee; Editing by Mark Heinrich)',
    'This article is for subscribers only.',
  ])('drops %s', (promo) => dropsLine(promo));
});

describe('stripBoilerplate: blocks', () => {
  it('drops a "Leia também" box with its headlines and keeps the text after it', () => {
    const text = [BODY1, '', 'Leia também', 'Kim visita Putin em Moscou', 'Coreia do Sul reage a teste de míssil', '', BODY2].join('\n');
    expect(stripBoilerplate(text)).toBe(`${BODY1}\n\n${BODY2}`);
  });

  it('drops everything after a trailing "Relacionados"', () => {
    const text = [BODY1, '', BODY2, '', 'Relacionados', '', 'Kim visita Putin', '', 'Outra notícia com ponto final e tudo.'].join('\n');
    expect(stripBoilerplate(text)).toBe(`${BODY1}\n\n${BODY2}`);
  });

  it.each(['Related', 'Mais lidas', 'Most read', 'Você também pode gostar', 'Recomendados para você', 'Tags:'])(
    'cuts at a trailing "%s"',
    (heading) => {
      const text = [BODY1, '', BODY2, '', heading, 'Qualquer coisa', 'Mais coisa.'].join('\n');
      expect(stripBoilerplate(text)).toBe(`${BODY1}\n\n${BODY2}`);
    },
  );

  it('treats an early "Relacionados" heading as a box, not the end of the story', () => {
    const text = ['Relacionados', 'Outra manchete', '', BODY1, '', BODY2].join('\n');
    expect(stripBoilerplate(text)).toBe(`${BODY1}\n\n${BODY2}`);
  });
});

describe('stripBoilerplate: sentences and fragments inside a paragraph', () => {
  it('drops a promo sentence and keeps the rest of the paragraph', () => {
    expect(stripBoilerplate(`${BODY1} ✅ Receba as notícias do Brasil 247 no WhatsApp. ${BODY2}`)).toBe(`${BODY1} ${BODY2}`);
  });

  it('removes a parenthesised photo credit inside a sentence', () => {
    expect(stripBoilerplate('Kim recebeu Shoigu (Foto: KCNA via REUTERS) no sábado, em Pyongyang.')).toBe(
      'Kim recebeu Shoigu no sábado, em Pyongyang.',
    );
  });

  it('removes "Read more »" and WordPress footers', () => {
    expect(stripBoilerplate(`${BODY1} Read more »`)).toBe(BODY1);
    expect(stripBoilerplate(`${BODY1} The post Pacote econômico appeared first on Jornal Exemplo.`)).toBe(BODY1);
  });
});

describe('stripBoilerplate: does not over-strip', () => {
  it.each([
    'O governo vai assinar um acordo com a China na próxima semana.',
    'Os dois países assinaram um acordo de cooperação militar.',
    'O assinante da linha telefônica foi identificado pela polícia.',
    'Siga o dinheiro, disse o promotor aos jornalistas.',
    'O Telegram foi bloqueado no Brasil por decisão judicial.',
    'O WhatsApp anunciou uma nova função para grupos.',
    'O Pix foi lançado pelo Banco Central em novembro de 2020.',
    'A foto mostra o presidente ao lado de ministros.',
    'Relacionados ao caso, os documentos foram entregues à polícia.',
    'Ele se inscreveu no programa em 2019.',
    'Compartilhe sua opinião foi o lema da campanha publicitária do banco em 2010, que rendeu prêmios.',
    'Readers who follow the markets closely were surprised by the decision.',
    'The company will share more details on Monday.',
    'Kim Jong Un, da Coreia do Norte, se reúne com Shoigu, da Rússia: interesses de segurança mútua',
    'Entre os países que apoiaram a proposta estão Brasil e México.',
  ])('keeps %s', (sentence) => {
    expect(stripBoilerplate(`${BODY1}\n\n${sentence}`)).toBe(`${BODY1}\n\n${sentence}`);
  });

  it('returns clean text unchanged apart from whitespace', () => {
    expect(stripBoilerplate(`  ${BODY1}  \n\n\n${BODY2}`)).toBe(`${BODY1}\n\n${BODY2}`);
  });

  it('handles empty and blank input', () => {
    expect(stripBoilerplate('')).toBe('');
    expect(stripBoilerplate(' \n \n')).toBe('');
  });
});

describe('stripBoilerplate: a feed\'s own patterns', () => {
  it('drops lines and sentences matching the extra patterns, on top of the defaults', () => {
    const extra = [/^Baixe o app do Jornal/i];
    const text = `${BODY1} Baixe o app do Jornal na loja. ${BODY2}\n\nBaixe o app do Jornal!\n\nReceba as notícias no WhatsApp.`;
    expect(stripBoilerplate(text, extra)).toBe(`${BODY1} ${BODY2}`);
    // Without them, only the defaults apply.
    expect(stripBoilerplate(text)).toContain('Baixe o app');
  });

  it('works with global and sticky patterns, call after call', () => {
    const extra = [/PATROCINADO/g];
    for (let i = 0; i < 3; i++) expect(stripBoilerplate(`${BODY1}\n\nConteúdo PATROCINADO aqui`, extra)).toBe(BODY1);
  });

  it('survives a pattern the pre-filter cannot rewrite', () => {
    // `\-` outside a class is fine without the u flag but a syntax error with it, as the pre-filter compiles.
    // eslint-disable-next-line no-useless-escape
    const extra = [/\-\- oferta$/];
    expect(stripBoilerplate(`${BODY1}\n\nGrande -- oferta`, extra)).toBe(BODY1);
    expect(stripBoilerplate(`${BODY1}\n\n${BODY2}`, extra)).toBe(`${BODY1}\n\n${BODY2}`);
  });
});

describe('the default lists', () => {
  it('are non-empty arrays of RegExp', () => {
    for (const list of [DEFAULT_BOILERPLATE, LINE_BOILERPLATE, INLINE_BOILERPLATE]) {
      expect(list.length).toBeGreaterThan(0);
      for (const re of list) expect(re).toBeInstanceOf(RegExp);
    }
  });
});
