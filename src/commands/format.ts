import type { MessageKey } from './i18n.js';
import type { PauseState } from './repo.js';
import type { StatusReport } from './services.js';
import { truncateEcho, type Locale } from './text.js';

/**
 * Pure formatting of the longer replies (times, `/status`, headline lists). Takes the translator and the
 * clock's reading as values.
 */

/** Looks up a string in the reply's language and fills its placeholders. */
export type Translate = (key: MessageKey, vars?: Record<string, string | number>) => string;

/** The longest reply text the router produces; Telegram's limit is 4,096 and adapters need no splitting. */
export const MAX_REPLY = 4000;

/** How many lines per `/status` section before "… and N more". */
export const STATUS_ITEMS = 10;

/**
 * A moment as people read it in a chat: the date and time in the newsroom's time zone followed by how
 * long ago (or how soon) it is, e.g. `24/09, 19:42 (há 2 minutos)` or `09/24, 07:42 PM (2 minutes ago)`.
 */
export function formatWhen(at: Date, now: Date, locale: Locale, timeZone: string): string {
  const abs = new Intl.DateTimeFormat(locale, {
    timeZone,
    day: '2-digit',
    month: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).format(at);
  return `${abs} (${formatRelative(at, now, locale)})`;
}

/** `há 2 minutos` / `in 3 hours`: the largest whole unit, seconds below a minute. */
export function formatRelative(at: Date, now: Date, locale: Locale): string {
  const diffS = Math.round((at.getTime() - now.getTime()) / 1000);
  const abs = Math.abs(diffS);
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: 'auto' });
  if (abs < 60) return rtf.format(diffS, 'second');
  if (abs < 3600) return rtf.format(Math.trunc(diffS / 60), 'minute');
  if (abs < 86_400) return rtf.format(Math.trunc(diffS / 3600), 'hour');
  return rtf.format(Math.trunc(diffS / 86_400), 'day');
}

/** Cuts a reply to `max` characters (default MAX_REPLY) on a line boundary where possible, never inside an emoji. */
export function capReply(text: string, max: number = MAX_REPLY): string {
  if (text.length <= max) return text;
  let cut = text.slice(0, Math.max(0, max - 2));
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  const nl = cut.lastIndexOf('\n');
  return `${nl > max / 2 ? cut.slice(0, nl) : cut}\n…`;
}

/** Lines for a list section: at most `max` items, then one "… and N more" line. */
export function capped<T>(items: readonly T[], max: number, line: (item: T) => string, t: Translate): string[] {
  const lines = items.slice(0, max).map(line);
  if (items.length > max) lines.push(t('list.more', { count: items.length - max }));
  return lines;
}

/** The `/status` reply text. */
export function formatStatus(
  report: StatusReport,
  pause: PauseState,
  ctx: { t: Translate; now: Date; locale: Locale; timeZone: string },
): string {
  const { t, now, locale, timeZone } = ctx;
  const when = (d: Date | null) => (d ? formatWhen(d, now, locale, timeZone) : t('time.never'));
  const none = t('status.none');
  const lines: string[] = [t('status.title')];
  lines.push(
    pause.paused
      ? t('status.posting.paused', { when: when(pause.at), by: pause.by ?? '?' })
      : t('status.posting.active'),
  );

  lines.push('', t('status.feeds', { count: report.feeds.length }));
  if (report.feeds.length === 0) lines.push(none);
  lines.push(
    ...capped(
      report.feeds,
      STATUS_ITEMS,
      (f) => {
        const head = t('status.feed', {
          name: truncateEcho(f.title ?? f.url, 60),
          lastPoll: when(f.lastPolledAt),
          nextPoll: when(f.nextPollAt),
          failures: f.failures,
        });
        const lines = [head];
        if (f.lastError) lines.push(t('status.feed.error', { error: truncateEcho(f.lastError, 120) }));
        if (f.heldBack) lines.push(t('status.feed.heldBack', { count: f.heldBack.count, when: when(f.heldBack.at) }));
        return lines.join('\n');
      },
      t,
    ),
  );

  lines.push('', t('status.queues'));
  if (report.queues.length === 0) lines.push(none);
  const queues = [...report.queues].sort((a, b) => b.pending - a.pending || a.label.localeCompare(b.label));
  lines.push(
    ...capped(
      queues,
      STATUS_ITEMS,
      (q) =>
        t(q.dead ? 'status.queue.dead' : 'status.queue', {
          label: truncateEcho(q.label, 60),
          pending: q.pending,
          failed: q.failed,
        }),
      t,
    ),
  );

  lines.push('', t('status.sends'));
  if (report.lastSends.length === 0) lines.push(none);
  lines.push(
    ...capped(
      report.lastSends,
      STATUS_ITEMS,
      (s) =>
        t('status.send', {
          when: when(s.at),
          label: truncateEcho(s.label, 60),
          title: truncateEcho(s.title ?? '—', 80),
        }),
      t,
    ),
  );

  lines.push('', t('status.platforms'));
  if (report.platforms.length === 0) lines.push(none);
  for (const p of report.platforms) {
    lines.push(
      t('status.platform', {
        platform: p.platform,
        state: p.state,
        detail: p.detail ? ` — ${truncateEcho(p.detail, 120)}` : '',
      }),
    );
    if (p.degraded)
      lines.push(
        t('status.platform.degraded', {
          since: when(p.degraded.since),
          reason: truncateEcho(p.degraded.reason ?? '?', 120),
          probes: p.degraded.probes,
        }),
      );
  }
  return capReply(lines.join('\n'));
}
