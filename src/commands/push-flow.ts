import { formatWhen } from './format.js';
import type { MessageKey } from './i18n.js';
import type { PendingConfirmation, PendingPush } from './pending.js';
import { cancelDigest, confirmDigest } from './digest-flow.js';
import { confirmationReply } from './confirm-reply.js';
import { say, matchByName, type CommandEnv, type CommandSpec, type Ctx } from './context.js';
import { PushPrepareError, type ChatRef, type PushDestination, type PushPreview, type PushProgress } from './services.js';
import { parseHttpUrl, truncateEcho, type ParsedCommand } from './text.js';
import type { Reply } from './types.js';

/**
 * An editor's push, start to finish: `/push <url> [destinations…]` prepares the page and asks for
 * confirmation (buttons where the chat can show them, a code to type where it cannot), `/confirmar` or the
 * button enqueues it on the priority lane, `/cancelarpush` drops it, and progress comes back to the
 * editor's chat as it is sent. `/preview <url>` shows the render without pushing. Every step is audited.
 */

const destNames = (d: PushDestination): string[] => [d.id, d.label, d.id.replace(/^[a-z]+:/, '')];
const destLabels = (ds: readonly PushDestination[]): string => ds.map((d) => d.label).join(', ') || '—';

/** Button data: `push:ok:<code>` / `push:no:<code>` (well under Telegram's 64 bytes). */
const ACTION = /^push:(ok|no):([A-Za-z0-9]{1,16})$/;

/** What a button press the push flow made means, or null for data it did not make. */
export function parsePushAction(data: unknown): { confirm: boolean; code: string } | null {
  const m = ACTION.exec(typeof data === 'string' ? data : '');
  return m ? { confirm: m[1] === 'ok', code: m[2]! } : null;
}

/** Validates the URL argument shared by /push and /preview; returns the URL or the reply. */
async function urlArg(env: CommandEnv, ctx: Ctx, action: string, raw: string | undefined): Promise<URL | Reply> {
  if (raw === undefined) {
    await env.audit(ctx, action, 'invalid', { reason: 'no url' });
    return say(ctx.t(action === 'push' ? 'push.usage' : 'preview.usage'));
  }
  const url = parseHttpUrl(raw);
  if (!url) {
    await env.audit(ctx, action, 'invalid', { reason: 'not an http(s) url', input: truncateEcho(raw, 200) });
    return say(ctx.t('push.badUrl', { input: truncateEcho(raw) }));
  }
  return url;
}

async function prepare(env: CommandEnv, ctx: Ctx, action: string, url: URL): Promise<PushPreview | Reply> {
  try {
    return await env.services.push.prepare(url.href, { platform: ctx.platform, locale: ctx.locale });
  } catch (err) {
    const reason = err instanceof PushPrepareError ? err.reason : err instanceof Error ? err.message : String(err);
    env.logger.warn({ err, url: url.href, actor: ctx.actor }, `${action}: could not prepare the page`);
    await env.audit(ctx, action, 'failed', { url: url.href, reason: truncateEcho(reason, 300) });
    return say(ctx.t('push.prepareFailed', { url: truncateEcho(url.href, 100), reason: truncateEcho(reason, 200) }));
  }
}

async function push(env: CommandEnv, ctx: Ctx, cmd: ParsedCommand): Promise<Reply[]> {
  const [rawUrl, ...destArgs] = cmd.args;
  const url = await urlArg(env, ctx, 'push', rawUrl);
  if (!(url instanceof URL)) return [url];

  let chosen: PushDestination[] | null = null;
  if (destArgs.length > 0) {
    const all = await env.services.push.destinations();
    chosen = [];
    for (const arg of destArgs) {
      const m = matchByName(arg, all, destNames);
      if (m.kind !== 'ok') {
        await env.audit(ctx, 'push', 'invalid', { url: url.href, reason: `destination ${m.kind}`, input: truncateEcho(arg, 100) });
        return [
          say(
            m.kind === 'ambiguous'
              ? ctx.t('push.destAmbiguous', { input: truncateEcho(arg), matches: destLabels(m.items) })
              : ctx.t('push.destUnknown', { input: truncateEcho(arg), destinations: destLabels(all) }),
          ),
        ];
      }
      if (!chosen.some((d) => d.id === m.item.id)) chosen.push(m.item);
    }
  }

  const preview = await prepare(env, ctx, 'push', url);
  if (!('articleId' in preview)) return [preview];
  const destinations = chosen ?? preview.destinations;
  if (destinations.length === 0) {
    const all = await env.services.push.destinations();
    await env.audit(ctx, 'push', 'invalid', { url: preview.url, reason: 'no destinations' });
    return [say(ctx.t('push.noDestinations', { destinations: destLabels(all) }))];
  }

  const last = await env.services.push.lastPushed(preview.articleId);
  const p = await env.pending.add({
    platform: ctx.platform,
    chatId: ctx.chatId,
    threadId: ctx.threadId,
    actor: ctx.actor,
    editorId: ctx.editorId ?? '',
    locale: ctx.locale,
    preview,
    destinations,
    createdAt: ctx.now,
  });
  await env.audit(ctx, 'push', 'awaiting_confirmation', {
    url: preview.url,
    code: p.code,
    destinations: destinations.map((d) => d.id),
    pushedBefore: last ? last.at.toISOString() : null,
  }, preview.articleId);

  return confirmationReply(
    ctx,
    p.code,
    env.confirmTtlMs,
    ctx.t('push.preview', { text: preview.text, count: destinations.length, destinations: destLabels(destinations) }),
    last
      ? ctx.t('push.already', { when: formatWhen(last.at, ctx.now, ctx.locale, env.timeZone), by: truncateEcho(last.by, 64) })
      : ctx.t('push.ask'),
  );
}

/** Finds the confirmation a code (or, with none given, the editor's only pending push or digest) refers to. */
async function findPending(
  env: CommandEnv,
  ctx: Ctx,
  action: string,
  code: string | undefined,
): Promise<{ push: PendingConfirmation } | { reply: Reply }> {
  if (code === undefined || code === '') {
    const mine = await env.pending.ofActor(ctx.actor, ctx.now);
    if (mine.length === 1) return { push: mine[0]! };
    return { reply: say(ctx.t(action === 'push.confirm' ? 'push.confirmUsage' : 'push.cancelUsage')) };
  }
  const found = await env.pending.lookup(code, ctx.now);
  if (found.status === 'unknown') {
    await env.audit(ctx, action, 'unknown_code', { code: truncateEcho(code, 20) });
    return { reply: say(ctx.t('push.unknownCode', { code: truncateEcho(code, 20) })) };
  }
  if (found.push.actor !== ctx.actor) {
    await env.audit(ctx, action, 'refused', { code: found.push.code, reason: 'started by another editor', owner: found.push.actor });
    return { reply: say(ctx.t('push.notYours')) };
  }
  if (found.status === 'expired') {
    await env.pending.delete(found.push.code);
    const what = found.push.kind === 'digest' ? { destination: found.push.destination.id } : { url: found.push.preview.url };
    await env.audit(ctx, found.push.kind === 'digest' ? action.replace(/^push/, 'digest') : action, 'expired', { code: found.push.code, ...what });
    return { reply: say(ctx.t('push.expired', { code: found.push.code })) };
  }
  return { push: found.push };
}

function progressListener(env: CommandEnv, p: PendingPush): (progress: PushProgress) => void {
  const chat: ChatRef = { platform: p.platform, chatId: p.chatId, threadId: p.threadId };
  const t = env.translator(p.locale);
  const title = truncateEcho(p.preview.title, 80);
  return (progress) => {
    try {
      const key: MessageKey = !progress.done ? 'push.progress' : progress.failed > 0 ? 'push.progressFailed' : 'push.progressDone';
      const text = t(key, { title, sent: progress.sent, total: progress.total, failed: progress.failed });
      env.services.notifier.notify(chat, [say(text)]).catch((err: unknown) => {
        env.logger.warn({ err, chat: chat.chatId, ticket: progress.ticketId }, 'could not tell the editor how the push went');
      });
    } catch (err) {
      env.logger.warn({ err, ticket: progress.ticketId }, 'push progress callback failed');
    }
  };
}

/** Enqueues the push a code (or the editor's only pending one) names. Also what the ✅ button does. */
export async function confirmPush(env: CommandEnv, ctx: Ctx, code: string | undefined): Promise<Reply[]> {
  const found = await findPending(env, ctx, 'push.confirm', code);
  if ('reply' in found) return [found.reply];
  const p = found.push;
  // The same codes, buttons and /confirmar answer an editor's /resumo.
  if (p.kind === 'digest') return confirmDigest(env, ctx, p);
  if (!(await env.pending.delete(p.code))) return [say(ctx.t('push.unknownCode', { code: p.code }))];
  const ids = p.destinations.map((d) => d.id);
  try {
    const ticket = await env.services.push.enqueue(
      p.preview,
      ids,
      {
        editor: { platform: p.platform, id: p.editorId },
        actor: p.actor,
        chat: { platform: p.platform, chatId: p.chatId, threadId: p.threadId },
        locale: p.locale,
      },
      progressListener(env, p),
    );
    await env.audit(ctx, 'push.confirm', 'ok', { url: p.preview.url, code: p.code, ticket: ticket.id, destinations: ids }, p.preview.articleId);
    return [say(ctx.t('push.enqueued', { count: ticket.total, title: truncateEcho(p.preview.title, 80) }))];
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    env.logger.error({ err, url: p.preview.url, actor: ctx.actor }, 'push: could not enqueue');
    await env.audit(ctx, 'push.confirm', 'failed', { url: p.preview.url, code: p.code, reason: truncateEcho(reason, 300) }, p.preview.articleId);
    return [say(ctx.t('push.enqueueFailed', { reason: truncateEcho(reason, 200) }))];
  }
}

/** Drops the push a code (or the editor's only pending one) names. Also what the ✖ button does. */
export async function cancelPush(env: CommandEnv, ctx: Ctx, code: string | undefined): Promise<Reply[]> {
  const found = await findPending(env, ctx, 'push.cancel', code);
  if ('reply' in found) return [found.reply];
  if (found.push.kind === 'digest') return cancelDigest(env, ctx, found.push);
  await env.pending.delete(found.push.code);
  await env.audit(ctx, 'push.cancel', 'cancelled', { url: found.push.preview.url, code: found.push.code }, found.push.preview.articleId);
  return [say(ctx.t('push.cancelled'))];
}

async function preview(env: CommandEnv, ctx: Ctx, cmd: ParsedCommand): Promise<Reply[]> {
  const url = await urlArg(env, ctx, 'preview', cmd.args[0]);
  if (!(url instanceof URL)) return [url];
  const p = await prepare(env, ctx, 'preview', url);
  if (!('articleId' in p)) return [p];
  await env.audit(ctx, 'preview', 'ok', { url: p.url });
  return [say(ctx.t('preview.header', { text: p.text, count: p.destinations.length, destinations: destLabels(p.destinations) }))];
}

/** The push flow's commands: editors only, private chats only. */
export const PUSH_COMMANDS: readonly CommandSpec[] = [
  { id: 'push', names: { 'pt-BR': 'push', en: 'push' }, access: 'editor', privateOnly: true, menu: null, run: push },
  { id: 'preview', names: { 'pt-BR': 'preview', en: 'preview' }, access: 'editor', privateOnly: true, menu: null, run: preview },
  {
    id: 'confirm',
    names: { 'pt-BR': 'confirmar', en: 'confirm' },
    access: 'editor',
    privateOnly: true,
    menu: null,
    run: (env, ctx, cmd) => confirmPush(env, ctx, cmd.args[0]),
  },
  {
    id: 'cancelpush',
    names: { 'pt-BR': 'cancelarpush', en: 'cancelpush' },
    access: 'editor',
    privateOnly: true,
    menu: null,
    run: (env, ctx, cmd) => cancelPush(env, ctx, cmd.args[0]),
  },
];
