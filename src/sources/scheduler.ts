import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../log.js';

/**
 * The poll clock: a node-cron task that ticks every few seconds in the configured time zone and asks the
 * pipeline to poll whichever feeds are due. Each feed's own schedule (its slot in the interval, Cache-Control
 * floor, failure backoff) lives in the feeds table, so one tick serves feeds of any interval, and short
 * ticks keep 10,000 feeds polling at an even rate instead of in bursts.
 *
 * A tick starts on time even while polls of an earlier tick are still running (a slow site must not hold
 * the others back): the tick function is the one that never starts the same work twice (the pipeline
 * skips feeds already in flight). stop() waits for every tick in progress.
 */
export interface PollScheduler {
  /** Runs one tick now (at start, so a fresh install shows messages at once). */
  runNow(): Promise<void>;
  stop(): Promise<void>;
}

/** Seconds between ticks for a poll interval: a hundred-and-twentieth of it, between 1 s and 30 s, dividing 60 (a due feed waits at most a tick; each tick is one indexed query). */
export function tickSeconds(pollIntervalMs: number): number {
  const target = Math.max(1, Math.min(30, Math.round(pollIntervalMs / 120_000)));
  const divisors = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30];
  return divisors.filter((d) => d <= target).pop() ?? 1;
}

export function startPollScheduler(opts: {
  pollIntervalMs: number;
  timeZone: string;
  logger: Logger;
  tick: () => Promise<unknown>;
}): PollScheduler {
  const every = tickSeconds(opts.pollIntervalMs);
  const log = opts.logger.child({ component: 'scheduler' });
  const running = new Set<Promise<void>>();
  let stopped = false;
  const run = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    const p: Promise<void> = opts
      .tick()
      .then(
        () => undefined,
        (err: unknown) => log.error({ event: 'scheduler.tick_failed', err }, 'a poll tick failed'),
      )
      .finally(() => running.delete(p));
    running.add(p);
    return p;
  };
  const task: ScheduledTask = cron.schedule(
    `*/${every} * * * * *`,
    () => {
      void run();
    },
    {
      name: 'poll-feeds',
      timezone: opts.timeZone,
      logger: {
        info: (m) => log.debug(m),
        warn: (m) => log.debug(m),
        error: (m, err) => log.error({ err }, String(m)),
        debug: (m) => log.trace(String(m)),
      },
    },
  );
  log.info({ event: 'scheduler.started', everySeconds: every, timeZone: opts.timeZone }, `polling due feeds every ${every} s (${opts.timeZone})`);
  return {
    runNow: run,
    stop: async () => {
      stopped = true;
      await task.stop();
      await task.destroy();
      await Promise.all([...running]);
    },
  };
}
