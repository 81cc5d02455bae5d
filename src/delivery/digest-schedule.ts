import cron, { type ScheduledTask } from 'node-cron';
import type { Logger } from '../log.js';

/**
 * When digests are due. A destination's `digest.at` times (`07:00`, `18:30`) are wall-clock times in TZ;
 * a *slot* is one of them on one local day, as an instant. The functions here are pure, so the time-zone
 * and daylight-saving rules are tested without a clock:
 *
 * - a time that does not exist on the day the clock springs forward (02:30 when 02:00 jumps to 03:00) is
 *   taken with the offset before the jump, so it falls that much later (03:30): the digest is late, never lost;
 * - a time that happens twice on the day the clock falls back is the first of the two: one digest, not two.
 *
 * The clock that asks is a node-cron task (`startDigestClock`) that ticks at the start of every minute in
 * TZ; each tick asks which slot is the latest due, and the digest service sends it unless the database
 * says it went already. The same question at start sends a slot missed while the process was down.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall clock in `timeZone` at instant `ms`, written as if it were UTC (ms since the epoch). */
export function wallClock(ms: number, timeZone: string): number {
  const parts = formatter(timeZone).formatToParts(new Date(ms));
  const get = (t: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === t)?.value ?? 0);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour') % 24, get('minute'), get('second'));
}

/** `timeZone`'s offset from UTC at instant `ms`, in ms (São Paulo: −3 h). Seconds of historic offsets are dropped. */
export function offsetAt(ms: number, timeZone: string): number {
  return wallClock(Math.floor(ms / 1000) * 1000, timeZone) - Math.floor(ms / 1000) * 1000;
}

/**
 * The instant at which the wall clock in `timeZone` shows `local` (a wall-clock time written as UTC ms).
 * A time skipped by a spring-forward jump uses the offset before the jump (02:30 → 03:30 new time); a
 * time that happens twice (fall back) is the earlier one.
 */
export function instantOf(local: number, timeZone: string): number {
  // Offsets on either side of any transition that day: a day has at most one.
  const before = offsetAt(local - 12 * HOUR, timeZone);
  const after = offsetAt(local + 12 * HOUR, timeZone);
  const candidates = [local - before, local - after].filter((t) => wallClock(t, timeZone) === local);
  if (candidates.length) return Math.min(...candidates);
  return local - before;
}

/** `"07:30"` → minutes after midnight (450). Throws for anything that is not HH:MM (the routes file checks first). */
export function minutesOf(time: string): number {
  const m = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(time.trim());
  if (!m) throw new Error(`"${time}" is not a time of day (HH:MM)`);
  return Number(m[1]) * 60 + Number(m[2]);
}

/** The slots of `at` on the local days around `now` (yesterday, today, tomorrow), in order. */
function slotsAround(at: readonly string[], timeZone: string, now: number): number[] {
  const today = Math.floor(wallClock(now, timeZone) / DAY) * DAY;
  const out: number[] = [];
  for (const day of [today - DAY, today, today + DAY]) for (const t of at) out.push(instantOf(day + minutesOf(t) * MINUTE, timeZone));
  return [...new Set(out)].sort((a, b) => a - b);
}

/** The latest slot at or before `now` (ms), or null when `at` is empty. */
export function latestSlot(at: readonly string[], timeZone: string, now: number): number | null {
  const due = slotsAround(at, timeZone, now).filter((s) => s <= now);
  return due.length ? due[due.length - 1]! : null;
}

/** The first slot after `now` (ms), or null when `at` is empty. */
export function nextSlot(at: readonly string[], timeZone: string, now: number): number | null {
  return slotsAround(at, timeZone, now).find((s) => s > now) ?? null;
}

/** Every slot in (from, to], oldest first (for a day's schedule in tests and docs). */
export function slotsBetween(at: readonly string[], timeZone: string, from: number, to: number): number[] {
  const out: number[] = [];
  for (let day = from; day < to + DAY; day += DAY) for (const s of slotsAround(at, timeZone, day)) if (s > from && s <= to) out.push(s);
  return [...new Set(out)].sort((a, b) => a - b);
}

/**
 * What to do about a destination's digest at `now`: the latest due slot when it is younger than
 * `catchUpMs` and later than the last slot handled; `missed` when the latest due slot is older than that
 * and was never handled (the process was down: its articles wait for the next slot); otherwise nothing.
 */
export function dueSlot(
  at: readonly string[],
  timeZone: string,
  now: number,
  lastHandled: number | null,
  catchUpMs: number,
): { slot: number; action: 'send' | 'missed' } | null {
  const slot = latestSlot(at, timeZone, now);
  if (slot === null || (lastHandled !== null && slot <= lastHandled)) return null;
  return { slot, action: now - slot < catchUpMs ? 'send' : 'missed' };
}

/** The digest clock: a node-cron task that asks for due digests at the start of every minute in TZ. */
export interface DigestClock {
  /** Runs one check now (at start: a slot missed while the process was down goes out). */
  runNow(): Promise<void>;
  stop(): Promise<void>;
}

export function startDigestClock(opts: {
  timeZone: string;
  logger: Logger;
  tick: () => Promise<unknown>;
  /** The cron expression (seconds first). Default `0 * * * * *`: second 0 of every minute, when HH:MM slots fall. */
  expression?: string;
}): DigestClock {
  const log = opts.logger.child({ component: 'digests' });
  let running: Promise<unknown> | null = null;
  const run = async () => {
    if (running) return running;
    running = opts.tick().finally(() => (running = null));
    return running;
  };
  const task: ScheduledTask = cron.schedule(opts.expression ?? '0 * * * * *', run, {
    name: 'digests',
    timezone: opts.timeZone,
    noOverlap: true,
    logger: {
      info: (m) => log.debug(m),
      warn: (m) => log.debug(m),
      error: (m, err) => log.error({ err }, String(m)),
      debug: (m) => log.trace(String(m)),
    },
  });
  task.on('execution:failed', (ctx) => log.error({ event: 'digest.tick_failed', err: ctx.execution?.error }, 'a digest check failed; the next minute tries again'));
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
