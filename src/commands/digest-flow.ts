import { formatWhen } from './format.js';
import type { PendingDigest } from './pending.js';
import { confirmationReply } from './confirm-reply.js';
import { say, matchByName, type CommandEnv, type CommandSpec, type Ctx } from './context.js';
import type { PushDestination } from './services.js';
import { truncateEcho, type ParsedCommand } from './text.js';
import type { Reply } from './types.js';

/**
 * An editor's digest now: `/resumo [destino]` (`/digest [destination]`) previews the next digest of a
 * destination that has digests and asks for confirmation like `/push` (the same buttons, codes,
 * `/confirmar` and `/cancelarpush`, the same `pending_pushes` table); confirmed, it is queued ahead of
 * the queue and its articles do not appear in the next scheduled digest. Every step is audited.
 */

/** A destination answers to its id, its label and its chat, each with or without the `@` (`/resumo canal`). */
const destNames = (d: PushDestination): string[] => {
  const chat = d.id.replace(/^[a-z]+:/, '');
  return [d.id, d.label, chat, chat.replace(/^@/, ''), d.label.replace(/^@/, '')];
};
const destLabels = (ds: readonly PushDestination[]): string => ds.map((d) => d.label).join(', ') || '—';

async function digest(env: CommandEnv, ctx: Ctx, cmd: ParsedCommand): Promise<Reply[]> {
  const all = await env.services.digest.destinations();
  if (all.length === 0) {
    await env.audit(ctx, 'digest', 'invalid', { reason: 'no destination has digests' });
    return [say(ctx.t('digest.none'))];
  }
  const arg = cmd.args.join(' ').trim();
  let dest: PushDestination;
  if (arg === '') {
    if (all.length > 1) {
      await env.audit(ctx, 'digest', 'invalid', { reason: 'no destination named' });
      return [say(ctx.t('digest.choose', { destinations: destLabels(all) }))];
    }
    dest = all[0]!;
  } else {
    const m = matchByName(arg, all, destNames);
    if (m.kind !== 'ok') {
      await env.audit(ctx, 'digest', 'invalid', { reason: `destination ${m.kind}`, input: truncateEcho(arg, 100) });
      return [
        say(
          m.kind === 'ambiguous'
            ? ctx.t('push.destAmbiguous', { input: truncateEcho(arg), matches: destLabels(m.items) })
            : ctx.t('digest.destUnknown', { input: truncateEcho(arg), destinations: destLabels(all) }),
        ),
      ];
    }
    dest = m.item;
  }

  const preview = await env.services.digest.preview(dest.id);
  const next = preview.nextAt ? formatWhen(preview.nextAt, ctx.now, ctx.locale, env.timeZone) : ctx.t('time.never');
  if (preview.articles === 0) {
    await env.audit(ctx, 'digest', 'empty', { destination: dest.id });
    return [say(ctx.t('digest.empty', { destination: dest.label, next }))];
  }
  const p = await env.pending.add({
    kind: 'digest',
    platform: ctx.platform,
    chatId: ctx.chatId,
    threadId: ctx.threadId,
    actor: ctx.actor,
    editorId: ctx.editorId ?? '',
    locale: ctx.locale,
    destination: dest,
    cutoff: preview.cutoff,
    articles: preview.articles,
    createdAt: ctx.now,
  });
  await env.audit(ctx, 'digest', 'awaiting_confirmation', { destination: dest.id, code: p.code, articles: preview.articles, waiting: preview.waiting });

  return confirmationReply(
    ctx,
    p.code,
    env.confirmTtlMs,
    ctx.t('digest.preview', { text: preview.text, destination: dest.label, count: preview.articles, waiting: preview.waiting }),
    ctx.t('digest.ask', { destination: dest.label, next }),
  );
}

/** Queues the digest a confirmation names (push-flow's `/confirmar` and button hand it over). */
export async function confirmDigest(env: CommandEnv, ctx: Ctx, p: PendingDigest): Promise<Reply[]> {
  if (!(await env.pending.delete(p.code))) return [say(ctx.t('push.unknownCode', { code: p.code }))];
  try {
    const sent = await env.services.digest.send(p.destination.id, p.cutoff, p.actor);
    if (!sent) {
      await env.audit(ctx, 'digest.confirm', 'empty', { destination: p.destination.id, code: p.code });
      return [say(ctx.t('digest.nothingLeft', { destination: p.destination.label }))];
    }
    await env.audit(ctx, 'digest.confirm', 'ok', { destination: p.destination.id, code: p.code, articles: sent.articles });
    return [say(ctx.t('digest.enqueued', { destination: p.destination.label, count: sent.articles }))];
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    env.logger.error({ err, destination: p.destination.id, actor: ctx.actor }, 'digest: could not enqueue');
    await env.audit(ctx, 'digest.confirm', 'failed', { destination: p.destination.id, code: p.code, reason: truncateEcho(reason, 300) });
    return [say(ctx.t('push.enqueueFailed', { reason: truncateEcho(reason, 200) }))];
  }
}

/** Drops the digest a confirmation names. */
export async function cancelDigest(env: CommandEnv, ctx: Ctx, p: PendingDigest): Promise<Reply[]> {
  await env.pending.delete(p.code);
  await env.audit(ctx, 'digest.cancel', 'cancelled', { destination: p.destination.id, code: p.code });
  return [say(ctx.t('digest.cancelled'))];
}

/** `/resumo`: editors only, private chats only (a preview shows newsroom internals). */
export const DIGEST_COMMANDS: readonly CommandSpec[] = [
  { id: 'digest', names: { 'pt-BR': 'resumo', en: 'digest' }, access: 'editor', privateOnly: true, menu: null, run: digest },
];
