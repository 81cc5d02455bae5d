import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../log.js';

/**
 * The poll clock: a node-cron task that ticks every few seconds in the configured time zone and asks the
 * pipeline to poll whichever feeds are due. Each feed's own schedule (interval, Cache-Control floor,
 * failure backoff) lives in the feeds table, so one tick serves feeds of any interval. A tick never
 * overlaps the previous one (`noOverlap`): a slow feed delays the next tick instead of doubling the work.
 */
export interface PollScheduler {
  /** Runs one tick now (at start, so a fresh install shows messages at once). */
  runNow(): Promise<void>;
  stop(): Promise<void>;
}

/** Seconds between ticks for a poll interval: a sixth of it, between 5 s and 60 s, dividing 60. */
export function tickSeconds(pollIntervalMs: number): number {
  const target = Math.max(5, Math.min(60, Math.round(pollIntervalMs / 6000)));
  const divisors = [5, 6, 10, 12, 15, 20, 30, 60];
  return divisors.filter((d) => d <= target).pop() ?? 5;
}

export function startPollScheduler(opts: {
  pollIntervalMs: number;
  timeZone: string;
  logger: Logger;
  tick: () => Promise<unknown>;
}): PollScheduler {
  const every = tickSeconds(opts.pollIntervalMs);
  const log = opts.logger.child({ component: 'scheduler' });
  let running: Promise<unknown> | null = null;
  const run = async () => {
    if (running) return running;
    running = opts.tick().finally(() => (running = null));
    return running;
  };
  const task: ScheduledTask = cron.schedule(`*/${every} * * * * *`, run, {
    name: 'poll-feeds',
    timezone: opts.timeZone,
    noOverlap: true,
    logger: {
      info: (m) => log.debug(m),
      warn: (m) => log.debug(m),
      error: (m, err) => log.error({ err }, String(m)),
      debug: (m) => log.trace(String(m)),
    },
  });
  task.on('execution:failed', (ctx) => log.error({ event: 'scheduler.tick_failed', err: ctx.execution?.error }, 'a poll tick failed'));
  log.info({ event: 'scheduler.started', everySeconds: every, timeZone: opts.timeZone }, `polling due feeds every ${every} s (${opts.timeZone})`);
  return {
    runNow: async () => {
      await run();
    },
    stop: async () => {
      await task.stop();
      await task.destroy();
      if (running) await running.catch(() => undefined);
    },
  };
}
