import { MAX_REPLY, capReply } from './format.js';
import type { Ctx } from './context.js';
import type { Reply } from './types.js';

/**
 * The reply that asks an editor to confirm a prepared push or digest: the preview, then the question
 * (and, without buttons, the code to type). A long preview is cut to fit; the question must survive, so
 * only the preview is. With buttons, "Enviar"/"Cancelar" carry the code.
 */
export function confirmationReply(ctx: Ctx, code: string, confirmTtlMs: number, preview: string, question: string): Reply[] {
  const parts = [preview, question];
  if (!ctx.canShowButtons) parts.push(ctx.t('push.confirmHint', { code, minutes: Math.round(confirmTtlMs / 60_000) }));
  const tail = parts.slice(1).join('\n\n');
  const text = `${capReply(parts[0]!, MAX_REPLY - tail.length - 2)}\n\n${tail}`;
  if (!ctx.canShowButtons) return [{ text }];
  return [
    {
      text,
      buttons: [
        { label: ctx.t('push.button.ok'), data: `push:ok:${code}` },
        { label: ctx.t('push.button.no'), data: `push:no:${code}` },
      ],
    },
  ];
}
