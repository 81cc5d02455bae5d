import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { getSubscriber, subscribersForTopics, subscriptionsOf } from '../../src/commands/repo.js';
import { alertsForPlatform } from '../../src/store/subscribers.js';
import { makeHarness, only, type Harness } from './harness.js';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.close();
});

const EN = { languageCode: 'en' };

describe('/start /iniciar', () => {
  it('welcomes in Portuguese, lists topics, says how to stop, and records the subscriber', async () => {
    const text = only(await h.tg('/start'));
    expect(text).toContain('Olá');
    expect(text).toContain('Mundo, Política, Economia');
    expect(text).toContain('/assinar');
    expect(text).toContain('/sair');
    expect(await getSubscriber(h.store.db, 'telegram:1001')).toMatchObject({ locale: 'pt-BR', active: true, name: 'Ana' });
  });

  it('welcomes in English for a non-Portuguese Telegram user and stores that locale', async () => {
    const text = only(await h.tg('/start', { languageCode: 'en-US' }));
    expect(text).toContain('Hello');
    expect(text).toContain('/subscribe');
    expect(text).toContain('/stop');
    expect((await getSubscriber(h.store.db, 'telegram:1001'))?.locale).toBe('en');
  });

  it('uses the configured default language on WhatsApp', async () => {
    expect(only(await h.wa('/iniciar'))).toContain('Olá');
    expect((await getSubscriber(h.store.db, 'whatsapp:5511988887777@s.whatsapp.net'))?.locale).toBe('pt-BR');
    const en = await makeHarness({ defaultLocale: 'en' });
    try {
      expect(only(await en.wa('/start'))).toContain('Hello');
    } finally {
      await en.close();
    }
  });

  it('a deep-link payload naming a topic subscribes to it', async () => {
    expect(only(await h.tg('/start mundo'))).toContain('Mundo');
    expect(await subscriptionsOf(h.store.db, 'telegram:1001')).toEqual(['mundo']);
  });

  it('in a group, welcomes without recording anyone', async () => {
    const text = only(await h.tg('/start@manchete_bot', { chatType: 'group', chatId: '-100777' }));
    expect(text).toContain('Olá');
    expect(await getSubscriber(h.store.db, 'telegram:-100777')).toBeNull();
  });
});

describe('/help /ajuda', () => {
  it('lists the subscriber commands in each language', async () => {
    const pt = only(await h.tg('/ajuda'));
    expect(pt).toContain('/ultimas');
    expect(pt).toContain('/cancelar');
    expect(pt).not.toContain('/push');
    const en = only(await h.tg('/help', EN));
    expect(en).toContain('/latest');
    expect(en).toContain('/unsubscribe');
  });

  it('adds the editor commands for editors only', async () => {
    const text = only(await h.tg('/ajuda', { senderId: '42', chatId: '42' }));
    expect(text).toContain('/push');
    expect(text).toContain('/pausar');
  });

  it('command names are case-insensitive', async () => {
    expect(only(await h.tg('/AJUDA'))).toContain('/ultimas');
    expect(only(await h.tg('/Help', EN))).toContain('/latest');
  });
});

describe('/latest /ultimas', () => {
  it('shows the last N headlines with links', async () => {
    const text = only(await h.tg('/ultimas'));
    expect(text.split('\n')[0]).toBe('Últimas manchetes:');
    expect(text).toContain('1. Manchete 1 de Mundo\nhttps://site.example/1');
    expect(text).toContain('5. Manchete 5 de Política');
    expect(text).not.toContain('Manchete 6');
  });

  it('filters by topic, accent- and case-insensitively, in both languages', async () => {
    const pt = only(await h.tg('/últimas POLITICA'));
    expect(pt).toContain('Últimas de Política:');
    expect(pt).toContain('Manchete 2 de Política');
    expect(pt).not.toContain('Mundo');
    const en = only(await h.tg('/latest mundo', EN));
    expect(en).toContain('Latest in Mundo:');
    expect(en).toContain('Manchete 6 de Mundo');
  });

  it('says when a topic has nothing yet', async () => {
    expect(only(await h.tg('/ultimas eleições'))).toBe('Ainda não há manchetes de Eleições.');
  });

  it('names the topics when the topic is unknown', async () => {
    const text = only(await h.tg('/ultimas cultura'));
    expect(text).toContain('“cultura”');
    expect(text).toContain('Mundo, Política');
  });

  it('respects latestCount', async () => {
    const small = await makeHarness({ latestCount: 2 });
    try {
      const text = only(await small.tg('/latest', EN));
      expect(text).toContain('2. Manchete 2');
      expect(text).not.toContain('3. ');
    } finally {
      await small.close();
    }
  });
});

describe('topics and subscriptions', () => {
  it('/start, /assinar mundo, /temas marks it; /sair clears everything', async () => {
    await h.tg('/start');
    expect(only(await h.tg('/assinar mundo'))).toContain('você vai receber Mundo');
    const topics = only(await h.tg('/temas'));
    expect(topics).toContain('✅ Mundo');
    expect(topics).toContain('▫️ Política');
    expect((await subscribersForTopics(h.store.db, 'telegram', ['Mundo'])).map((s) => s.chatId)).toEqual(['1001']);

    const stop = only(await h.tg('/sair'));
    expect(stop).toContain('não vai receber mais nada');
    expect(await subscriptionsOf(h.store.db, 'telegram:1001')).toEqual([]);
    expect((await getSubscriber(h.store.db, 'telegram:1001'))?.active).toBe(false);
    expect(await subscribersForTopics(h.store.db, 'telegram', ['mundo'])).toEqual([]);
    expect(only(await h.tg('/temas'))).not.toContain('✅ Mundo');
  });

  it('works the same in English', async () => {
    expect(only(await h.tg('/subscribe politica', EN))).toBe('Done: you will get Política. To stop it: /unsubscribe politica');
    expect(only(await h.tg('/topics', EN))).toContain('✅ Política');
    expect(only(await h.tg('/unsubscribe Política', EN))).toContain('no longer get Política');
    expect(only(await h.tg('/unsubscribe Política', EN))).toContain('were not subscribed');
    expect(only(await h.tg('/stop', EN))).toContain('You had no topics');
  });

  it('subscribing again says so; /assinar reactivates a stopped subscriber', async () => {
    await h.tg('/assinar mundo');
    expect(only(await h.tg('/assinar Mundo'))).toBe('Você já recebe Mundo.');
    await h.tg('/sair');
    await h.tg('/assinar mundo');
    expect((await getSubscriber(h.store.db, 'telegram:1001'))?.active).toBe(true);
  });

  it('matches accents, case and unambiguous prefixes', async () => {
    await h.tg('/assinar POLÍTICA');
    await h.tg('/assinar eco');
    await h.tg('/assinar   eleicoes  ');
    expect(await subscriptionsOf(h.store.db, 'telegram:1001')).toEqual(['economia', 'eleicoes', 'politica']);
  });

  it('asks which one when a prefix is ambiguous', async () => {
    const text = only(await h.tg('/assinar e'));
    expect(text).toContain('Economia, Esportes, Eleições');
    expect(await subscriptionsOf(h.store.db, 'telegram:1001')).toEqual([]);
  });

  it('an unknown topic is named and the topics listed', async () => {
    expect(only(await h.tg('/assinar cultura'))).toBe(
      'Não conheço o tema “cultura”. Temas: Mundo, Política, Economia, Esportes, Eleições',
    );
  });

  it('without a topic, explains the usage', async () => {
    expect(only(await h.tg('/assinar'))).toContain('/assinar <tema>');
    await h.tg('/assinar mundo');
    expect(only(await h.tg('/cancelar'))).toContain('Você assina: Mundo');
  });

  it('/cancelar <tema> unsubscribes one topic', async () => {
    await h.tg('/assinar mundo');
    await h.tg('/assinar politica');
    expect(only(await h.tg('/cancelar mundo'))).toBe('Pronto: você não recebe mais Mundo.');
    expect(await subscriptionsOf(h.store.db, 'telegram:1001')).toEqual(['politica']);
  });

  it('WhatsApp subscribers are kept apart from Telegram ones', async () => {
    await h.wa('/assinar mundo');
    expect((await subscribersForTopics(h.store.db, 'whatsapp', ['mundo'])).map((s) => s.chatId)).toEqual([
      '5511988887777@s.whatsapp.net',
    ]);
    expect(await subscribersForTopics(h.store.db, 'telegram', ['mundo'])).toEqual([]);
  });

  it('subscription commands in a group point to a private chat', async () => {
    const group = { chatType: 'group' as const, chatId: '-100777' };
    expect(only(await h.tg('/assinar@manchete_bot mundo', group))).toContain('conversa direta');
    expect(only(await h.tg('/sair@manchete_bot', group))).toContain('conversa direta');
    expect(await getSubscriber(h.store.db, 'telegram:-100777')).toBeNull();
  });
});

describe('unknown commands and free text', () => {
  it('in a group or channel an unknown command gets silence, a known one an answer; the chat budget is asked only to answer', async () => {
    const group = { chatType: 'group' as const, chatId: '-100777' };
    let asked = 0;
    const budget = (allow: boolean) => () => (asked++, allow);
    expect(await h.tg('/xyz@manchete_bot', { ...group, replyBudget: budget(true) })).toEqual([]);
    expect(await h.tg('/@manchete_bot', { ...group, replyBudget: budget(true) })).toEqual([]);
    expect(asked).toBe(0);
    expect(only(await h.tg('/ajuda@manchete_bot', { ...group, replyBudget: budget(true) }))).toContain('/ultimas');
    expect(asked).toBe(1);
    expect(await h.tg('/ajuda@manchete_bot', { ...group, replyBudget: budget(false) })).toEqual([]);
    expect(asked).toBe(2);
    expect(only(await h.tg('/xyz', { replyBudget: budget(true) }))).toContain('/xyz');
    expect(await h.tg('/xyz', { replyBudget: budget(false) })).toEqual([]);
  });

  it('an unknown command in private gets a pointer to /help', async () => {
    expect(only(await h.tg('/xyz'))).toBe('Não conheço o comando /xyz. Os comandos estão em /ajuda.');
    expect(only(await h.tg('/xyz', EN))).toContain('/help');
    expect(only(await h.tg('/'))).toBe('Não entendi. Os comandos estão em /ajuda.');
  });

  it('free text in private gets a pointer; in a group it is ignored', async () => {
    expect(only(await h.tg('bom dia!'))).toContain('/ajuda');
    expect(only(await h.wa('oi, tudo bem?'))).toContain('/ajuda');
    expect(await h.tg('bom dia!', { chatType: 'group', chatId: '-100777', addressedToBot: false })).toEqual([]);
    expect(await h.wa('bom dia', { chatType: 'group', chatId: '1203@g.us' })).toEqual([]);
  });

  it('in a group, only commands addressed to this bot are answered', async () => {
    const group = { chatType: 'group' as const, chatId: '-100777', addressedToBot: false };
    expect(await h.tg('/ultimas', group)).toEqual([]);
    expect(await h.tg('/ultimas@outro_bot', group)).toEqual([]);
    expect(only(await h.tg('/ultimas@Manchete_Bot', group))).toContain('Últimas manchetes');
    expect(only(await h.tg('/ultimas', { ...group, addressedToBot: true }))).toContain('Últimas manchetes');
    expect(await h.tg('/xyz', group)).toEqual([]);
  });

  it('a command for another bot is ignored even in private', async () => {
    expect(await h.tg('/start@outro_bot')).toEqual([]);
  });

  it('channel posts are ignored', async () => {
    expect(await h.tg('/start', { chatType: 'channel', chatId: '-100999' })).toEqual([]);
  });
});

describe('reply rate limit', () => {
  it('the 11th message in a minute gets no reply and one log line; the window frees up later', async () => {
    const r = await makeHarness({ replyRate: { count: 10, perMs: 60_000 } });
    try {
      for (let i = 0; i < 10; i++) {
        expect(await r.tg('/ajuda')).toHaveLength(1);
        r.advance(1000);
      }
      expect(await r.tg('/ajuda')).toEqual([]);
      expect(await r.tg('bom dia')).toEqual([]);
      const limitLines = r.logs.filter((l) => String(l.msg).includes('rate limit'));
      expect(limitLines).toHaveLength(1);
      expect(limitLines[0]).toMatchObject({ user: 'telegram:1001' });
      // Another user is not affected.
      expect(await r.tg('/ajuda', { senderId: '2002', chatId: '2002' })).toHaveLength(1);
      // A minute after the first message, one slot is free again.
      r.advance(50_001);
      expect(await r.tg('/ajuda')).toHaveLength(1);
    } finally {
      await r.close();
    }
  });

  it('ignored group chatter does not use up the allowance', async () => {
    const r = await makeHarness({ replyRate: { count: 2, perMs: 60_000 } });
    try {
      for (let i = 0; i < 5; i++) await r.tg('conversa', { chatType: 'group', chatId: '-1', addressedToBot: false });
      expect(await r.tg('/ajuda')).toHaveLength(1);
    } finally {
      await r.close();
    }
  });
});

describe('bad input', () => {
  it('10 KB of text: no crash, short echo', async () => {
    const big = 'a'.repeat(10 * 1024);
    expect(only(await h.tg(big))).toContain('/ajuda');
    const text = only(await h.tg(`/assinar ${big}`));
    expect(text).toContain('Não conheço o tema');
    expect(text.length).toBeLessThan(200);
    expect(only(await h.tg(`/${big}`)).length).toBeLessThan(200);
    expect(only(await h.tg(`/push https://site.example/${big}`, { senderId: '42', chatId: '42' })).length).toBeLessThan(300);
  });

  it('control characters are stripped before matching and never echoed', async () => {
    expect(only(await h.tg('/assinar \u0000mun\u0007do'))).toContain('Mundo');
    const text = only(await h.tg('/assinar \u0001cul\u001btura\u007f'));
    expect(text).toContain('“cultura”');
    expect(/[\u0000-\u0008\u000b-\u001f\u007f]/.test(text)).toBe(false);
  });

  it('RTL marks and zero-width characters do not break commands', async () => {
    expect(only(await h.tg('\u202E/start'))).toContain('Olá');
    expect(only(await h.tg('/assinar \u200Fmun\u200Bdo\u2069'))).toContain('Mundo');
    const text = only(await h.tg('/assinar \u202Eacitilop'));
    expect(text).not.toContain('\u202E');
  });

  it('only emoji: a pointer, or an unknown topic', async () => {
    expect(only(await h.tg('🎉🎉🎉'))).toContain('/ajuda');
    expect(only(await h.tg('/🎉'))).toContain('/ajuda');
    const text = only(await h.tg(`/assinar ${'🇧🇷'.repeat(100)}`));
    expect(text).toContain('Não conheço o tema');
    expect(text).toContain('…');
  });

  it('an empty message in private gets a pointer', async () => {
    expect(only(await h.tg(''))).toContain('/ajuda');
    expect(only(await h.tg('\u200B\u200B'))).toContain('/ajuda');
  });

  it('a failing service becomes an apology and an error log line, not a crash', async () => {
    h.state.topicsFail = true;
    expect(only(await h.tg('/temas'))).toBe('Algo deu errado do meu lado. Tente de novo daqui a pouco.');
    expect(only(await h.tg('/topics', EN))).toContain('Something went wrong');
    expect(h.logs.some((l) => l.level === 50 && l.msg === 'command failed')).toBe(true);
  });
});

describe('menu', () => {
  it('gives Telegram-valid command names and descriptions in both languages', () => {
    for (const locale of ['pt-BR', 'en'] as const) {
      const menu = h.router.menu(locale);
      expect(menu.length).toBe(9);
      for (const c of menu) {
        expect(c.command).toMatch(/^[a-z0-9_]{1,32}$/);
        expect(c.description.length).toBeGreaterThan(2);
      }
    }
    expect(h.router.menu('pt-BR').map((c) => c.command)).toContain('assinar');
    expect(h.router.menu('en').map((c) => c.command)).toContain('subscribe');
  });
});

describe('keyword alerts: /alerta /alertas /cancelar', () => {
  it('adds, lists with the topics, refuses repeats and removes an alert by its words (pt-BR)', async () => {
    await h.tg('/assinar mundo');
    expect(only(await h.tg('/alerta Câmara dos Deputados'))).toBe('Pronto: você recebe as notícias com "Câmara dos Deputados". Para remover: /cancelar Câmara dos Deputados');
    expect(only(await h.tg('/alerta  camara   DOS deputados '))).toBe('Você já tem o alerta "camara DOS deputados".');
    const list = only(await h.tg('/alertas'));
    expect(list).toContain('Seus temas: Mundo');
    expect(list).toContain('Seus alertas (1 de 20):');
    expect(list).toContain('• Câmara dos Deputados');
    expect(await alertsForPlatform(h.store.db, 'telegram')).toEqual([{ id: 'telegram:1001', platform: 'telegram', chatId: '1001', locale: 'pt-BR', folded: 'camara dos deputados' }]);
    // /cancelar takes a topic or an alert.
    expect(only(await h.tg('/cancelar camara dos deputados'))).toBe('Pronto: alerta "Câmara dos Deputados" removido.');
    expect(only(await h.tg('/cancelar mundo'))).toContain('não recebe mais Mundo');
    expect(only(await h.tg('/alertas'))).toBe('Você não assina temas nem tem alertas. Veja /temas, ou crie um alerta: /alerta <palavras>');
  });

  it('the same in English', async () => {
    expect(only(await h.tg('/alert Senate', EN))).toBe('Done: you will get the stories with "Senate". To remove it: /unsubscribe Senate');
    expect(only(await h.tg('/alerts', EN))).toContain('Your alerts (1 of 20):\n• Senate');
    expect(only(await h.tg('/unsubscribe senate', EN))).toBe('Done: alert "Senate" removed.');
    expect(only(await h.tg('/alert', EN))).toContain('Which words? /alert <words> (up to 60 characters)');
  });

  it('at most 20 alerts of at most 60 characters each, with clear replies', async () => {
    expect(only(await h.tg(`/alerta ${'a'.repeat(61)}`))).toBe('Esse alerta tem 61 caracteres; o máximo é 60. Use menos palavras.');
    expect(only(await h.tg(`/alert ${'b'.repeat(61)}`, EN))).toBe('That alert has 61 characters; the limit is 60. Use fewer words.');
    expect(only(await h.tg(`/alerta ${'a'.repeat(60)}`))).toContain('Pronto');
    for (let i = 1; i < 20; i++) expect(only(await h.tg(`/alerta palavra${i}`))).toContain('Pronto');
    expect(only(await h.tg('/alerta vinte e um'))).toBe('Você já tem 20 alertas, o máximo. Remova um com /cancelar <palavras> antes de criar outro.');
    expect(only(await h.tg('/alert twenty one', EN))).toBe('You already have 20 alerts, the limit. Remove one with /unsubscribe <words> first.');
    expect(only(await h.tg('/alerta !!!'))).toContain('não tem palavras para procurar');
    expect(await alertsForPlatform(h.store.db, 'telegram')).toHaveLength(20);
    // /sair clears alerts too.
    await h.tg('/sair');
    expect(await alertsForPlatform(h.store.db, 'telegram')).toEqual([]);
  });
});
