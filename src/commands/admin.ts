import { say, type CommandEnv, type CommandSpec, type Ctx } from './context.js';
import { formatStatus, formatWhen } from './format.js';
import { getPauseState, setPaused } from './repo.js';
import type { Reply } from './types.js';

/**
 * Editors running the newsroom's bot: `/pausar` and `/retomar` switch automatic posting off and on
 * (persisted; pushes still go out), `/status` shows feeds, queues and platforms. Editors only, private only.
 */

async function pauseOrResume(env: CommandEnv, ctx: Ctx, pause: boolean): Promise<Reply[]> {
  const action = pause ? 'pause' : 'resume';
  const state = await getPauseState(env.db);
  if (state.paused === pause) {
    await env.audit(ctx, action, 'unchanged', null);
    if (!pause) return [say(ctx.t('resume.already'))];
    const when = state.at ? formatWhen(state.at, ctx.now, ctx.locale, env.timeZone) : ctx.t('time.never');
    return [say(ctx.t('pause.already', { when, by: state.by ?? '?' }))];
  }
  await setPaused(env.db, pause, ctx.actor, ctx.now);
  env.logger.info({ actor: ctx.actor, paused: pause }, pause ? 'automatic posting paused' : 'automatic posting resumed');
  await env.audit(ctx, action, 'ok', null);
  return [say(ctx.t(pause ? 'pause.ok' : 'resume.ok'))];
}

async function status(env: CommandEnv, ctx: Ctx): Promise<Reply[]> {
  const [report, pause] = await Promise.all([env.services.status.status(), getPauseState(env.db)]);
  await env.audit(ctx, 'status', 'ok', null);
  return [say(formatStatus(report, pause, { t: ctx.t, now: ctx.now, locale: ctx.locale, timeZone: env.timeZone }))];
}

export const ADMIN_COMMANDS: readonly CommandSpec[] = [
  { id: 'pause', names: { 'pt-BR': 'pausar', en: 'pause' }, access: 'editor', privateOnly: true, menu: null, run: (env, ctx) => pauseOrResume(env, ctx, true) },
  { id: 'resume', names: { 'pt-BR': 'retomar', en: 'resume' }, access: 'editor', privateOnly: true, menu: null, run: (env, ctx) => pauseOrResume(env, ctx, false) },
  { id: 'status', names: { 'pt-BR': 'status', en: 'status' }, access: 'editor', privateOnly: true, menu: null, run: status },
];
