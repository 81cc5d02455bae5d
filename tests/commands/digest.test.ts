import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DESTINATIONS, makeHarness, only, type Harness } from './harness.js';
import type { Reply } from '../../src/commands/types.js';

/** `/resumo [destino]`: preview the next digest, send it after confirmation, like `/push`. */

let h: Harness;
beforeEach(async () => {
  h = await makeHarness();
});
afterEach(async () => {
  await h.close();
});

const ED = { senderId: '42', chatId: '42' };
const WA_ED = { senderId: '5511999998888', chatId: '5511999998888@s.whatsapp.net' };
const CHANNEL = DESTINATIONS[0]!.id; // telegram:@manchete
const COMMUNITY = DESTINATIONS[2]!.id;

function okButton(r: Reply[]): string {
  const data = r[0]?.buttons?.find((b) => b.data.startsWith('push:ok:'))?.data;
  if (!data) throw new Error(`no confirmation buttons in ${JSON.stringify(r)}`);
  return data;
}

describe('/resumo', () => {
  it('previews the named destination’s next digest and sends it after "Enviar"; audited at each step', async () => {
    h.state.digest.waiting[CHANNEL] = 3;
    const r = await h.tg('/resumo manchete', ED);
    const text = only(r);
    expect(text).toContain('Próximo resumo de @manchete (3 de 3 matérias reunidas)');
    expect(text).toContain('Manchete 1 de Mundo');
    expect(text).toMatch(/Enviar agora para @manchete\?/);
    expect(h.digestsSent).toEqual([]);
    const done = only(await h.action(okButton(r)));
    expect(done).toBe('Resumo na frente da fila para @manchete: 3 matéria(s).');
    expect(h.digestsSent).toEqual([{ destinationId: CHANNEL, cutoff: h.now(), actor: 'telegram:42' }]);
    // The button pressed again: the confirmation is gone, nothing is sent twice.
    await h.action(okButton(r));
    expect(h.digestsSent).toHaveLength(1);
    const audit = (await h.audit()).map((a) => [a.action, a.outcome]);
    expect(audit).toEqual([
      ['digest', 'awaiting_confirmation'],
      ['digest.confirm', 'ok'],
      ['push.confirm', 'unknown_code'],
    ]);
  });

  it('in English as /digest; without a name it needs exactly one destination with digests', async () => {
    expect(only(await h.tg('/digest', { ...ED, languageCode: 'en' }))).toBe('Which destination? /digest <destination>. With digests: @manchete, Comunidade Manchete');
    h.state.digest.destinations = [DESTINATIONS[0]!];
    expect(only(await h.tg('/digest', { ...ED, languageCode: 'en' }))).toMatch(/^Nothing was routed to @manchete since its last digest; there is nothing to send\. Next digest: /);
    h.state.digest.destinations = [];
    expect(only(await h.tg('/resumo', ED))).toMatch(/^Nenhum destino tem resumos\. Use mode: digest ou mode: both/);
  });

  it('an unknown destination lists those with digests; nothing is stored', async () => {
    expect(only(await h.tg('/resumo redacao', ED))).toBe('Não conheço o destino “redacao”, ou ele não tem resumos. Com resumos: @manchete, Comunidade Manchete');
    expect(await h.store.db.selectFrom('pending_pushes').selectAll().execute()).toEqual([]);
  });

  it('on WhatsApp it asks for the code; /confirmar sends, /cancelarpush drops; a restart keeps the confirmation', async () => {
    h.state.digest.waiting[COMMUNITY] = 12;
    const text = only(await h.wa('/resumo comunidade', WA_ED));
    expect(text).toContain('(10 de 12 matérias reunidas)');
    const code = /\/confirmar (\w+)/.exec(text)![1]!;
    // A restart between the preview and the confirmation (the confirmation lives in the database).
    const again = h.makeRouter();
    const reply = await again.handleMessage({
      platform: 'whatsapp', chatId: WA_ED.chatId, chatType: 'private', senderId: WA_ED.senderId, senderName: 'Bia', languageCode: null,
      text: `/confirmar ${code}`, messageId: 'x1', addressedToBot: true, canShowButtons: false, receivedAt: h.now(),
    });
    expect(only(reply)).toBe('Resumo na frente da fila para Comunidade Manchete: 10 matéria(s).');
    expect(h.digestsSent.map((d) => d.destinationId)).toEqual([COMMUNITY]);

    h.state.digest.waiting[COMMUNITY] = 2;
    const second = only(await h.wa('/resumo comunidade', WA_ED));
    const code2 = /\/confirmar (\w+)/.exec(second)![1]!;
    expect(only(await h.wa(`/cancelarpush ${code2}`, WA_ED))).toBe('Resumo cancelado. Nada foi enviado.');
    expect(h.digestsSent).toHaveLength(1);
  });

  it('the scheduled digest took the articles meanwhile: says so, sends nothing', async () => {
    h.state.digest.waiting[CHANNEL] = 2;
    const r = await h.tg('/resumo @manchete', ED);
    h.state.digest.waiting[CHANNEL] = 0;
    expect(only(await h.action(okButton(r)))).toBe('Não sobrou nada para enviar a @manchete: o resumo programado já levou essas matérias.');
  });

  it('is for editors, in private', async () => {
    h.state.digest.waiting[CHANNEL] = 2;
    expect(only(await h.tg('/resumo'))).toMatch(/editores/);
    expect(only(await h.tg('/resumo', { ...ED, chatType: 'group', chatId: '-100' }))).toMatch(/conversa direta|privad/);
    expect(h.digestsSent).toEqual([]);
  });

  it('is in the editors’ help', async () => {
    const help = (await h.tg('/ajuda', ED)).map((r) => r.text).join('\n');
    expect(help).toContain('/resumo [destino]');
  });
});
