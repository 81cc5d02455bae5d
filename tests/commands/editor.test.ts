import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isEditor } from '../../src/commands/editors.js';
import { normalizeWhatsAppNumber } from '../../src/platforms/whatsapp/numbers.js';
import { toIncomingMessage } from '../../src/platforms/whatsapp/incoming.js';
import { getPauseState } from '../../src/commands/repo.js';
import { DESTINATIONS, EDITORS, T0, makeHarness, only, type Harness } from './harness.js';
import type { Reply } from '../../src/commands/types.js';

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.close();
});

/** The Telegram editor (id 42) in their private chat. */
const ED = { senderId: '42', chatId: '42' };
/** The WhatsApp editor. */
const WA_ED = { senderId: '5511999998888', chatId: '5511999998888@s.whatsapp.net' };
const URL1 = 'https://site.example/mundo/kim-missil';

function buttons(r: Reply[]): { ok: string; no: string } {
  const b = r[0]?.buttons ?? [];
  const ok = b.find((x) => x.data.startsWith('push:ok:'))?.data;
  const no = b.find((x) => x.data.startsWith('push:no:'))?.data;
  if (!ok || !no) throw new Error(`no push buttons in ${JSON.stringify(r)}`);
  return { ok, no };
}

describe('editor allow-list', () => {
  it('matches platform and id as plain strings, and fails closed', () => {
    expect(isEditor(EDITORS, 'telegram', '42')).toBe(true);
    expect(isEditor(EDITORS, 'whatsapp', '42')).toBe(false);
    expect(isEditor(EDITORS, 'telegram', '5511999998888')).toBe(false);
    expect(isEditor(EDITORS, 'whatsapp', '5511999998888')).toBe(true);
    // The adapter normalises senders; the allow-list check itself applies no platform's rules.
    expect(isEditor(EDITORS, 'whatsapp', '+5511999998888')).toBe(false);
    expect(isEditor(EDITORS, 'whatsapp', '5511999998888@s.whatsapp.net')).toBe(false);
    expect(isEditor(EDITORS, 'telegram', null)).toBe(false);
    expect(isEditor(EDITORS, 'telegram', undefined)).toBe(false);
    expect(isEditor(EDITORS, 'telegram', '')).toBe(false);
    expect(isEditor(EDITORS, 'telegram', '420')).toBe(false);
    expect(isEditor([], 'telegram', '42')).toBe(false);
    // An entry with an empty id (never produced by the config parser) matches nobody.
    expect(isEditor([{ platform: 'telegram', id: '' }], 'telegram', '')).toBe(false);
  });

  it('a WhatsApp sender in any accepted form normalises to the number the allow-list holds', () => {
    for (const raw of ['5511999998888', '+5511999998888', '+55 11 99999-8888', '5511999998888@s.whatsapp.net', '5511999998888:3@s.whatsapp.net', '5511999998888@c.us'])
      expect(isEditor(EDITORS, 'whatsapp', normalizeWhatsAppNumber(raw)), raw).toBe(true);
  });

  it('a WhatsApp @lid sender, group JID or junk is never an editor, even when its digits are an editor number', () => {
    for (const raw of ['5511999998888@lid', '5511999998888:2@lid', '120363@g.us', '5511999998888@newsletter', 'abc', '', '  ', '1234', '5511999998888@'])
      expect(normalizeWhatsAppNumber(raw), raw).toBeNull();
    expect(isEditor(EDITORS, 'whatsapp', normalizeWhatsAppNumber('5511999998888@lid'))).toBe(false);
    expect(normalizeWhatsAppNumber(null)).toBeNull();
  });

  it('a non-editor is refused politely, logged with their id, and audited', async () => {
    const text = only(await h.tg(`/push ${URL1}`));
    expect(text).toBe('Desculpe, esse comando é só para editores da redação.');
    expect(h.prepared).toEqual([]);
    expect(await h.audit()).toEqual([
      { actor: 'telegram:1001', action: 'push', detail: expect.stringContaining('not_editor'), outcome: 'refused' },
    ]);
    const line = h.logs.find((l) => String(l.msg).includes('not on the EDITORS list'));
    expect(line).toMatchObject({ actor: 'telegram:1001', command: 'push' });
  });

  it('every editor command is refused to non-editors, in English too', async () => {
    for (const cmd of ['/push x', '/preview x', '/pause', '/pausar', '/resume', '/retomar', '/status', '/confirmar AAAAAA', '/cancelarpush AAAAAA'])
      expect(only(await h.tg(cmd, { languageCode: 'en' }))).toContain('editors only');
    expect(await getPauseState(h.store.db)).toMatchObject({ paused: false });
    expect((await h.audit()).every((a) => a.outcome === 'refused')).toBe(true);
  });

  it('a null sender is never an editor', async () => {
    expect(only(await h.wa('/status', { senderId: null }))).toContain('só para editores');
    expect((await h.audit())[0]).toMatchObject({ actor: 'whatsapp:unknown', outcome: 'refused' });
  });

  it('a Telegram id does not work on WhatsApp, nor the other way round', async () => {
    expect(only(await h.wa('/status', { senderId: '42' }))).toContain('só para editores');
    expect(only(await h.tg('/status', { senderId: '5511999998888' }))).toContain('só para editores');
    expect(only(await h.wa('/status', { senderId: '5511999998888@lid' }))).toContain('só para editores');
    expect(only(await h.wa('/status', WA_ED))).toContain('Manchete — status');
  });

  it('a WhatsApp @lid sender the adapter cannot map is never an editor, end to end through the adapter', async () => {
    // The editor's own @lid id, with no known phone mapping: the adapter hands the router a null sender.
    const raw = { key: { remoteJid: '5511999998888@lid', fromMe: false, id: 'LID1' }, message: { conversation: '/status' }, pushName: 'Ed', messageTimestamp: 1_740_830_400 };
    const m = await toIncomingMessage(raw, { lidToPhone: () => null });
    expect(m).toMatchObject({ platform: 'whatsapp', senderId: null, canShowButtons: false });
    expect(only(await h.router.handleMessage(m!))).toContain('só para editores');
    expect((await h.audit())[0]).toMatchObject({ actor: 'whatsapp:unknown', action: 'status', outcome: 'refused' });
    // Mapped to the editor's number, the same message is an editor's.
    const mapped = await toIncomingMessage({ ...raw, key: { ...raw.key, id: 'LID2' } }, { lidToPhone: () => '5511999998888@s.whatsapp.net' });
    expect(mapped?.senderId).toBe('5511999998888');
    expect(only(await h.router.handleMessage(mapped!))).toContain('Manchete — status');
  });

  it('editor commands only work in a private chat', async () => {
    const text = only(await h.tg('/status@manchete_bot', { ...ED, chatType: 'group', chatId: '-100777' }));
    expect(text).toContain('conversa direta');
    expect((await h.audit())[0]).toMatchObject({ actor: 'telegram:42', outcome: 'refused' });
  });
});

describe('/push', () => {
  it('shows the preview and destinations with Enviar/Cancelar buttons; confirming enqueues and reports progress', async () => {
    const r = await h.tg(`/push ${URL1}`, ED);
    const text = only(r);
    expect(text).toContain('Kim diz que vai testar míssil');
    expect(text).toContain('Destinos (2): @manchete, Grupo da Redação');
    expect(text).toContain('Enviar agora?');
    expect(r[0]!.buttons?.map((b) => b.label)).toEqual(['Enviar', 'Cancelar']);
    const { ok } = buttons(r);
    for (const b of r[0]!.buttons!) expect(Buffer.byteLength(b.data)).toBeLessThanOrEqual(64);
    expect(h.enqueued).toHaveLength(0);

    const done = only(await h.action(ok));
    expect(done).toContain('Na fila');
    expect(done).toContain('2 destino');
    expect(h.enqueued).toHaveLength(1);
    const call = h.enqueued[0]!;
    expect(call.destinationIds).toEqual(['telegram:@manchete', 'telegram:-1001234']);
    expect(call.preview.url).toBe(URL1);
    expect(call.requester).toEqual({
      editor: { platform: 'telegram', id: '42' },
      actor: 'telegram:42',
      chat: { platform: 'telegram', chatId: '42', threadId: null },
      locale: 'pt-BR',
    });

    call.onProgress({ ticketId: 't1', total: 2, sent: 1, failed: 0, done: false });
    call.onProgress({ ticketId: 't1', total: 2, sent: 2, failed: 0, done: true });
    await new Promise((r) => setImmediate(r));
    expect(h.notified.map((n) => n.replies[0]!.text)).toEqual([
      '“Kim diz que vai testar míssil”: enviado para 1 de 2 destinos.',
      '“Kim diz que vai testar míssil”: enviado para 2 de 2 destinos. Pronto.',
    ]);
    expect(h.notified[0]!.chat).toEqual({ platform: 'telegram', chatId: '42', threadId: null });

    const audit = await h.audit();
    expect(audit.map((a) => [a.actor, a.action, a.outcome])).toEqual([
      ['telegram:42', 'push', 'awaiting_confirmation'],
      ['telegram:42', 'push.confirm', 'ok'],
    ]);
    expect(audit[1]!.detail).toContain(URL1);

    // The code is used up.
    expect(only(await h.action(ok))).toContain('Não achei a confirmação');
    expect(h.enqueued).toHaveLength(1);
  });

  it('reports failures in the final progress message', async () => {
    const { ok } = buttons(await h.tg(`/push ${URL1}`, { ...ED, languageCode: 'en' }));
    await h.action(ok, { languageCode: 'en' });
    h.enqueued[0]!.onProgress({ ticketId: 't1', total: 3, sent: 2, failed: 1, done: true });
    await new Promise((r) => setImmediate(r));
    expect(h.notified[0]!.replies[0]!.text).toBe('“Kim diz que vai testar míssil”: sent to 2 of 3 destinations; 1 failed. See /status.');
  });

  it('on WhatsApp asks for /confirmar <code>, without buttons, and accepts it', async () => {
    const r = await h.wa(`/push ${URL1}`, WA_ED);
    expect(r[0]!.buttons).toBeUndefined();
    const code = /\/confirmar ([A-Z0-9]{6})/.exec(only(r))?.[1];
    expect(code).toBeDefined();
    expect(only(r)).toContain(`/cancelarpush ${code}`);
    const done = only(await h.wa(`/confirmar ${code!.toLowerCase()}`, WA_ED));
    expect(done).toContain('Na fila');
    expect(h.enqueued[0]!.requester.actor).toBe('whatsapp:5511999998888');
    expect(h.enqueued[0]!.requester.chat.chatId).toBe('5511999998888@s.whatsapp.net');
  });

  it('buttons follow the message\'s canShowButtons, not the platform', async () => {
    const typed = await h.tg(`/push ${URL1}`, { ...ED, canShowButtons: false });
    expect(typed[0]!.buttons).toBeUndefined();
    expect(only(typed)).toMatch(/\/confirmar [A-Z0-9]{6}/);
    await h.tg('/cancelarpush', ED);
    const pressed = await h.wa(`/push ${URL1}`, { ...WA_ED, canShowButtons: true });
    expect(buttons(pressed).ok).toMatch(/^push:ok:/);
    expect(only(pressed)).not.toMatch(/\/confirmar [A-Z0-9]{6}/);
  });

  it('/confirm without a code takes the only pending push', async () => {
    await h.tg(`/push ${URL1}`, { ...ED, languageCode: 'en' });
    expect(only(await h.tg('/confirm', { ...ED, languageCode: 'en' }))).toContain('Queued');
    expect(h.enqueued).toHaveLength(1);
    expect(only(await h.tg('/confirm', { ...ED, languageCode: 'en' }))).toBe('Usage: /confirm <code>');
  });

  it('cancel by button or by /cancelarpush sends nothing', async () => {
    const first = buttons(await h.tg(`/push ${URL1}`, ED));
    expect(only(await h.action(first.no))).toBe('Envio cancelado. Nada foi enviado.');
    expect(only(await h.action(first.ok))).toContain('Não achei');

    const r = await h.wa(`/push ${URL1}`, WA_ED);
    const code = /\/confirmar ([A-Z0-9]{6})/.exec(only(r))![1]!;
    expect(only(await h.wa(`/cancelarpush ${code}`, WA_ED))).toContain('cancelado');
    expect(only(await h.wa(`/confirmar ${code}`, WA_ED))).toContain('Não achei');
    expect(h.enqueued).toHaveLength(0);
    expect((await h.audit()).filter((a) => a.action === 'push.cancel').map((a) => a.outcome)).toEqual(['cancelled', 'cancelled']);
  });

  it('/cancelar stays unsubscribe, even for an editor with a pending push', async () => {
    await h.tg(`/push ${URL1}`, ED);
    expect(only(await h.tg('/cancelar mundo', ED))).toContain('não assinava Mundo');
  });

  it('a confirmation expires after 10 minutes', async () => {
    const { ok } = buttons(await h.tg(`/push ${URL1}`, ED));
    h.advance(10 * 60_000 + 1);
    expect(only(await h.action(ok))).toContain('expirou');
    expect(h.enqueued).toHaveLength(0);
    expect((await h.audit()).at(-1)).toMatchObject({ action: 'push.confirm', outcome: 'expired' });
    expect(only(await h.action(ok))).toContain('Não achei');
  });

  it('a confirmation survives a restart (a new router over the same database), and still expires after 10 minutes', async () => {
    const first = buttons(await h.tg(`/push ${URL1}`, ED));
    const second = buttons(await h.tg('/push https://site.example/brasil/outra', ED));
    // The process restarts between /push and the press: a new router, the same database.
    const restarted = h.makeRouter();
    const press = (data: string) =>
      restarted.handleAction({ platform: 'telegram', chatId: '42', senderId: '42', languageCode: 'pt-br', data, messageId: 'r1', receivedAt: h.now() });
    h.advance(9 * 60_000);
    expect(only(await press(first.ok))).toContain('Na fila');
    expect(h.enqueued).toHaveLength(1);
    expect(h.enqueued[0]!.preview.url).toBe(URL1);
    // The stored article comes back whole, its dates as dates.
    expect(h.enqueued[0]!.preview.article.publishedAt).toBeInstanceOf(Date);
    expect(h.enqueued[0]!.destinationIds).toEqual(DESTINATIONS.slice(0, 2).map((d) => d.id));
    // A second press of the same button pushes nothing more.
    expect(only(await press(first.ok))).toContain('Não achei');
    h.advance(60_000 + 1);
    expect(only(await press(second.ok))).toContain('expirou');
    expect(h.enqueued).toHaveLength(1);
  });

  it('two presses of Enviar at once push once', async () => {
    const { ok } = buttons(await h.tg(`/push ${URL1}`, ED));
    const replies = await Promise.all([h.action(ok), h.action(ok)]);
    expect(h.enqueued).toHaveLength(1);
    expect(replies.map(only).filter((r) => r.includes('Na fila'))).toHaveLength(1);
  });

  it('still works just before expiry', async () => {
    const { ok } = buttons(await h.tg(`/push ${URL1}`, ED));
    h.advance(9 * 60_000);
    expect(only(await h.action(ok))).toContain('Na fila');
  });

  it('already pushed: says when and by whom and asks before sending again', async () => {
    h.lastPushed.set(`push:${URL1}`, { at: new Date(T0.getTime() - 3 * 3600_000), by: 'telegram:7' });
    const r = await h.tg(`/push ${URL1}`, ED);
    const text = only(r);
    expect(text).toContain('já foi enviada em');
    expect(text).toContain('10/03, 09:00'); // 12:00 UTC in São Paulo
    expect(text).toContain('por telegram:7');
    expect(text).toContain('Enviar de novo?');
    expect(text).not.toContain('Enviar agora?');
    await h.action(buttons(r).ok);
    expect(h.enqueued).toHaveLength(1);
  });

  it('refuses invalid URLs without fetching anything', async () => {
    for (const bad of ['ftp://site.example/x', 'javascript:alert(1)', 'site.example/sem-esquema', 'não é link']) {
      const text = only(await h.tg(`/push ${bad}`, ED));
      expect(text).toContain('não é um link http(s) válido');
    }
    expect(only(await h.tg('/push', ED))).toBe('Use: /push <link> [destino…]');
    expect(h.prepared).toEqual([]);
    expect((await h.audit()).map((a) => a.outcome)).toEqual(['invalid', 'invalid', 'invalid', 'invalid', 'invalid']);
  });

  it('an unreachable page gets a clear reply and is audited as failed', async () => {
    const text = only(await h.tg('/push https://site.example/unreachable', ED));
    expect(text).toBe(
      'Não consegui preparar https://site.example/unreachable: the page answered HTTP 404. Confira o link e tente de novo.',
    );
    expect((await h.audit())[0]).toMatchObject({ action: 'push', outcome: 'failed' });
    const other = only(await h.tg('/push https://site.example/explode', { ...ED, languageCode: 'en' }));
    expect(other).toContain('I could not prepare');
    expect(other).toContain('socket hang up');
  });

  it('named destinations override the default, matched by label, id or prefix', async () => {
    const r = await h.tg(`/push ${URL1} comunidade @manchete`, ED);
    expect(only(r)).toContain('Destinos (2): Comunidade Manchete, @manchete');
    await h.action(buttons(r).ok);
    expect(h.enqueued[0]!.destinationIds).toEqual(['whatsapp:120363@g.us', 'telegram:@manchete']);
  });

  it('an unknown or ambiguous destination is named before fetching', async () => {
    expect(only(await h.tg(`/push ${URL1} esportes`, ED))).toContain('Não conheço o destino “esportes”');
    expect(only(await h.tg(`/push ${URL1} telegram`, ED))).toContain('pode ser: @manchete, Grupo da Redação');
    expect(h.prepared).toEqual([]);
  });

  it('no destination for the story: says so and lists them', async () => {
    h.state.previewDestinations = [];
    const text = only(await h.tg(`/push ${URL1}`, ED));
    expect(text).toContain('Nenhum destino');
    expect(text).toContain('Comunidade Manchete');
  });

  it('another editor cannot confirm someone else\'s push; a non-editor cannot press the button', async () => {
    const { ok } = buttons(await h.tg(`/push ${URL1}`, ED));
    expect(only(await h.action(ok, { senderId: '1001', chatId: '1001' }))).toContain('só para editores');
    expect((await h.audit()).at(-1)).toMatchObject({ actor: 'telegram:1001', action: 'confirm', outcome: 'refused' });
    expect(only(await h.action(ok, { senderId: '43', chatId: '43' }))).toBe('Essa confirmação é de outro editor.');
    expect((await h.audit()).at(-1)).toMatchObject({ actor: 'telegram:43', action: 'push.confirm', outcome: 'refused' });
    expect(h.enqueued).toHaveLength(0);
    // The owner can still confirm it.
    expect(only(await h.action(ok))).toContain('Na fila');
  });

  it('a WhatsApp editor cannot confirm a Telegram editor\'s code', async () => {
    const { ok } = buttons(await h.tg(`/push ${URL1}`, ED));
    const code = ok.split(':')[2]!;
    expect(only(await h.wa(`/confirmar ${code}`, WA_ED))).toBe('Essa confirmação é de outro editor.');
    expect(h.enqueued).toHaveLength(0);
  });

  it('an enqueue failure is reported and audited', async () => {
    h.state.enqueueFail = true;
    const { ok } = buttons(await h.tg(`/push ${URL1}`, ED));
    expect(only(await h.action(ok))).toContain('Não consegui pôr na fila: database is locked');
    expect((await h.audit()).at(-1)).toMatchObject({ action: 'push.confirm', outcome: 'failed' });
  });

  it('pushes work while automatic posting is paused', async () => {
    await h.tg('/pausar', ED);
    const { ok } = buttons(await h.tg(`/push ${URL1}`, ED));
    expect(only(await h.action(ok))).toContain('Na fila');
  });

  it('unrelated button data is ignored', async () => {
    expect(await h.action('other:thing')).toEqual([]);
    expect(await h.action('push:ok:' + 'A'.repeat(100))).toEqual([]);
  });

  it('a very long preview is cut but the question and buttons survive', async () => {
    const big = `https://site.example/${'x'.repeat(1500)}`;
    const r = await h.tg(`/push ${big}`, ED);
    expect(only(r).length).toBeLessThanOrEqual(4000);
    expect(only(r)).toContain('Enviar agora?');
  });
});

describe('/preview', () => {
  it('renders only: nothing pending, nothing enqueued', async () => {
    const text = only(await h.tg(`/preview ${URL1}`, ED));
    expect(text).toContain('Prévia (nada foi enviado)');
    expect(text).toContain('O líder da Coreia do Norte afirmou');
    expect(only(await h.tg('/confirmar', ED))).toBe('Use: /confirmar <código>');
    expect(h.enqueued).toHaveLength(0);
    expect((await h.audit())[0]).toMatchObject({ action: 'preview', outcome: 'ok' });
    expect(only(await h.tg('/preview', { ...ED, languageCode: 'en' }))).toBe('Usage: /preview <link>');
    expect(only(await h.tg('/preview ftp://x', ED))).toContain('não é um link');
  });
});

describe('/pause /resume', () => {
  it('persists the switch with who and when, audits it, and says when it was already set', async () => {
    expect(await h.router.isPaused()).toBe(false);
    expect(only(await h.tg('/pausar', ED))).toContain('Postagem automática pausada');
    expect(await h.router.isPaused()).toBe(true);
    expect(await getPauseState(h.store.db)).toEqual({ paused: true, by: 'telegram:42', at: T0 });

    h.advance(5 * 60_000);
    const again = only(await h.wa('/pause', WA_ED));
    expect(again).toContain('já está pausada');
    expect(again).toContain('por telegram:42');
    expect(again).toContain('12:00');

    expect(only(await h.wa('/retomar', WA_ED))).toBe('Postagem automática retomada.');
    expect(await getPauseState(h.store.db)).toMatchObject({ paused: false, by: 'whatsapp:5511999998888' });
    expect(only(await h.tg('/resume', { ...ED, languageCode: 'en' }))).toBe('Automatic posting was not paused.');

    expect((await h.audit()).map((a) => [a.actor, a.action, a.outcome])).toEqual([
      ['telegram:42', 'pause', 'ok'],
      ['whatsapp:5511999998888', 'pause', 'unchanged'],
      ['whatsapp:5511999998888', 'resume', 'ok'],
      ['telegram:42', 'resume', 'unchanged'],
    ]);
  });

  it('the switch survives a new router over the same database', async () => {
    await h.tg('/pause', ED);
    const restarted = h.makeRouter();
    expect(await restarted.isPaused()).toBe(true);
  });
});

describe('/status', () => {
  it('formats feeds, queues, last sends, platforms and the pause state', async () => {
    h.state.status = {
      feeds: [
        {
          url: 'https://site.example/feed',
          title: 'Site Mundo',
          lastPolledAt: new Date(T0.getTime() - 120_000),
          lastOkAt: new Date(T0.getTime() - 120_000),
          nextPollAt: new Date(T0.getTime() + 60_000),
          failures: 0,
          lastError: null,
        },
        {
          url: 'https://broken.example/rss',
          title: null,
          lastPolledAt: null,
          lastOkAt: null,
          nextPollAt: new Date(T0.getTime() + 3600_000),
          failures: 3,
          lastError: 'feed https://broken.example/rss answered HTTP 503',
        },
      ],
      queues: [
        { destinationId: 'telegram:@manchete', label: '@manchete', pending: 4, failed: 1, dead: false },
        { destinationId: 'telegram:-100999', label: 'Grupo antigo', pending: 0, failed: 0, dead: true },
      ],
      lastSends: [{ at: new Date(T0.getTime() - 60_000), destinationId: 'telegram:@manchete', label: '@manchete', title: 'Kim diz' }],
      platforms: [
        { platform: 'telegram', state: 'open', degraded: { since: new Date(T0.getTime() - 180_000), probes: 4, reason: 'could not reach Telegram (ECONNREFUSED)' } },
        { platform: 'whatsapp', state: 'reconnecting', detail: 'closed with 428, retry in 8s' },
      ],
    };
    await h.tg('/pausar', ED);
    const text = only(await h.tg('/status', ED));
    const lines = text.split('\n');
    expect(lines[0]).toBe('Manchete — status');
    expect(lines[1]).toContain('PAUSADA');
    expect(text).toContain('Feeds (2):');
    expect(text).toMatch(/• Site Mundo: lido 10\/03, 11:58 \(há 2 minutos\); próxima leitura 10\/03, 12:01 \(.+\); falhas: 0/);
    expect(text).toContain('• https://broken.example/rss: lido nunca');
    expect(text).toContain('falhas: 3');
    expect(text).toContain('último erro: feed https://broken.example/rss answered HTTP 503');
    expect(text).toContain('• @manchete: 4 na fila, 1 com falha');
    expect(text).toContain('• Grupo antigo: DESTINO INATIVO');
    expect(text).toContain('→ @manchete: Kim diz');
    expect(text).toContain('• telegram: open');
    expect(text).toContain('• whatsapp: reconnecting — closed with 428, retry in 8s');
    expect(text).toMatch(/• telegram: open\n  envio suspenso desde 10\/03, 11:57 \(há 3 minutos\): a plataforma parece fora do ar \(could not reach Telegram \(ECONNREFUSED\)\); 4 sondagens até agora, retoma sozinho\n• whatsapp/);
    expect((await h.audit()).at(-1)).toMatchObject({ action: 'status', outcome: 'ok' });
  });

  it('says "none" for empty sections, in English too', async () => {
    const text = only(await h.tg('/status', { ...ED, languageCode: 'en' }));
    expect(text).toContain('Automatic posting: on');
    expect(text).toContain('Feeds (0):\n   (none)');
  });

  it('caps long lists and the whole reply', async () => {
    h.state.status = {
      feeds: Array.from({ length: 300 }, (_, i) => ({
        url: `https://site${i}.example/${'x'.repeat(200)}`,
        title: null,
        lastPolledAt: T0,
        lastOkAt: T0,
        nextPollAt: T0,
        failures: 1,
        lastError: 'e'.repeat(500),
      })),
      queues: [],
      lastSends: [],
      platforms: [],
    };
    const text = only(await h.tg('/status', ED));
    expect(text.length).toBeLessThanOrEqual(4000);
    expect(text).toContain('… e mais 290');
  });
});
