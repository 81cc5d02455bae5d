import type { Destination } from './types.js';

/**
 * Pacing: when may the next message go to a chat? One Pacer per platform holds the policy and the recent
 * send times; the dispatcher asks before each send. Limits are sliding windows over the reservation times,
 * so a burst is spread out instead of being refused by the platform.
 *
 * Telegram (Bot API FAQ): about 30 messages/s overall, about 1/s to one chat, at most 20/min to a group or
 * channel. WhatsApp publishes no limits and bans fast senders: a jittered gap between any two sends, a
 * minimum gap per chat, and an hourly cap.
 */
export interface PacingPolicy {
  /** Minimum time between any two sends of the platform (1000/30 for Telegram). */
  globalGapMs: number;
  /** Extra random gap added to globalGapMs, drawn per send (WhatsApp's 4–8 s → 4000 + up to 4000). */
  globalJitterMs: number;
  /** Minimum time between two sends to one chat. */
  chatGapMs: number;
  /** A cap per chat over a window, for groups and channels (Telegram 20/min); null for none. */
  groupWindow: { count: number; windowMs: number } | null;
  /** A cap over all chats (WhatsApp hourly cap); null for none. */
  globalWindow: { count: number; windowMs: number } | null;
  /**
   * How many of `globalWindow.count` are kept for command replies (WhatsApp: WHATSAPP_REPLY_SHARE of the
   * hourly cap). Replies may use only these, posts only the rest, so a busy news hour cannot silence the
   * bot and a crowd typing commands cannot hold back the news. 0 or absent: one cap shared by everything.
   */
  replyReserve?: number;
  /**
   * When a send goes out late (timers and database reads take time), let the next one keep the original
   * rhythm instead of drifting: up to half a gap is made up. Keeps throughput at the ceiling without ever
   * exceeding the average rate. Off for WhatsApp, where the gap is about looking human, not throughput.
   */
  catchUp?: boolean;
  /**
   * A second, faster ceiling for the sends it `applies` to (Telegram's paid broadcasts to private chats:
   * 1000/s instead of 30/s). Those sends skip `globalGapMs` and keep only `gapMs` between them; every other
   * send keeps `globalGapMs` and also counts against this ceiling, so all sends together never exceed it.
   * Per-chat limits hold for both. `applies` is asked at every send: when it turns false (the bot ran out
   * of Stars), those sends fall back to `globalGapMs` at once.
   */
  paid?: { gapMs: number; applies: (dest: Destination) => boolean };
}

/** Pacing margin under a platform's published ceiling: request arrival jitter must not push a window over it. */
const MARGIN = 0.97;

export function telegramPolicy(o: {
  maxPerSecond: number;
  chatGapMs: number;
  groupPerMinute: number;
  /** Paid broadcasts: the ceiling for the sends `applies` says are paid (TELEGRAM_PAID_MAX_PER_SECOND). */
  paid?: { maxPerSecond: number; applies: (dest: Destination) => boolean };
}): PacingPolicy {
  return {
    globalGapMs: 1000 / (o.maxPerSecond * MARGIN),
    globalJitterMs: 0,
    chatGapMs: o.chatGapMs,
    groupWindow: { count: o.groupPerMinute, windowMs: 60_000 },
    globalWindow: null,
    catchUp: true,
    ...(o.paid ? { paid: { gapMs: 1000 / (o.paid.maxPerSecond * MARGIN), applies: o.paid.applies } } : {}),
  };
}

export function whatsappPolicy(o: {
  gapMs: { min: number; max: number };
  chatGapMs: number;
  hourlyCap: number;
  /** Fraction of the hourly cap kept for command replies (0.2 for `20%`); default 0: no reservation. */
  replyShare?: number;
}): PacingPolicy {
  return {
    globalGapMs: o.gapMs.min,
    globalJitterMs: o.gapMs.max - o.gapMs.min,
    chatGapMs: o.chatGapMs,
    groupWindow: null,
    globalWindow: { count: o.hourlyCap, windowMs: 3_600_000 },
    replyReserve: replyReserve(o.hourlyCap, o.replyShare ?? 0),
  };
}

/**
 * How many sends of an hourly cap are kept for replies: the share rounded down, and never the whole cap
 * (posts keep at least one). 60 × 20% → 12; 5 × 20% → 1; 1 × 20% → 0 (no reservation).
 */
export function replyReserve(hourlyCap: number, share: number): number {
  if (!(share > 0)) return 0;
  return Math.max(0, Math.min(hourlyCap - 1, Math.floor(hourlyCap * share + 1e-9)));
}

/**
 * Which share of the global window a delivery draws on: command replies (outbox kind `reply`), or
 * everything else (articles, edits, digests: "posts").
 */
export type PaceClass = 'post' | 'reply';

function paceClass(kind: string | undefined): PaceClass {
  return kind === 'reply' ? 'reply' : 'post';
}

/** Is this destination a group or channel (subject to the per-group window) rather than a private chat? */
export function isGroupLike(dest: Destination): boolean {
  if (dest.platform === 'telegram') return dest.chatId.startsWith('-') || dest.chatId.startsWith('@');
  return !dest.chatId.endsWith('@s.whatsapp.net') && !dest.chatId.endsWith('@lid');
}

/**
 * A send budget shared by every instance of the bot (several `manchete start` on one PostgreSQL database):
 * Telegram's 30 msg/s is the bot's, not a process's. Each send takes the next slot; slots are `gapMs` apart
 * over all instances. Without one (SQLite: one process) the pacer's own global gap is the whole budget.
 */
export interface GlobalBudget {
  /** Takes the next free slot `gapMs` after the last one; resolves with its time on this host's clock (epoch ms). */
  take(gapMs: number): Promise<number>;
}

/** A shared slot missed by more than this (the process was busy) is not used: the send takes a fresh one. */
const SHARED_LATE_MS = 10;

/**
 * Waits for a slot of a shared budget. A send that wakes up late would land close to the next instance's
 * send (Telegram counts arrivals in a sliding window), so a missed slot is given up and a fresh one taken,
 * at most twice; then it goes. A budget that cannot answer (the database is away) rejects.
 */
export async function waitShared(budget: GlobalBudget, gapMs: number, clock: () => number = Date.now): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const at = await budget.take(gapMs);
    const wait = at - clock();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (clock() - at <= SHARED_LATE_MS) return;
  }
}

interface ChatState {
  last: number;
  /** Reservation times inside the group window (oldest first). */
  recent: number[];
  pausedUntil: number;
}

export class Pacer {
  private nextGlobal = 0;
  /** Earliest time of the next send on the paid ceiling's line (every send advances it). */
  private nextPaid = 0;
  private readonly chats = new Map<string, ChatState>();
  /** Reservation times inside the global window, per share (only `post` is used without a reply reserve). */
  private readonly globalRecent: Record<PaceClass, number[]> = { post: [], reply: [] };
  private pausedUntil = 0;
  /** The budget shared with other instances (store/rate-budget.ts), or null: this process is the only sender. */
  budget: GlobalBudget | null = null;

  constructor(
    readonly policy: PacingPolicy,
    private readonly random: () => number = Math.random,
  ) {}

  /** The share a delivery kind counts against, and that share's size (the whole cap without a reserve). */
  private share(kind: string | undefined): { times: number[]; count: number } | null {
    const gw = this.policy.globalWindow;
    if (!gw) return null;
    const reserve = Math.min(this.policy.replyReserve ?? 0, gw.count);
    if (reserve <= 0) return { times: this.globalRecent.post, count: gw.count };
    return paceClass(kind) === 'reply' ? { times: this.globalRecent.reply, count: reserve } : { times: this.globalRecent.post, count: gw.count - reserve };
  }

  /**
   * Milliseconds until a message to `dest` may go (0: now). Reserves nothing. `kind` is the delivery's
   * kind: a `reply` draws on the reply reserve of the global window, anything else on the posts' share.
   */
  waitFor(dest: Destination, now: number, kind?: string): number {
    const line = this.lineWait(dest, now, kind);
    const chat = this.chats.get(dest.chatId);
    if (!chat || line === Infinity) return line;
    let at = Math.max(now, chat.last + this.policy.chatGapMs, chat.pausedUntil);
    const w = this.policy.groupWindow;
    if (w && isGroupLike(dest)) {
      prune(chat.recent, at - w.windowMs);
      if (chat.recent.length >= w.count) at = Math.max(at, chat.recent[chat.recent.length - w.count]! + w.windowMs);
    }
    // Whole milliseconds: fractional gaps would let float error put one message too many in a window.
    return Math.max(line, Math.ceil(at - now));
  }

  /**
   * The part of `waitFor` that every chat on the same line shares (the global gap or the paid ceiling, a
   * platform pause, the global window): when it is long, no other chat on that line can go sooner either.
   */
  lineWait(dest: Destination, now: number, kind?: string): number {
    const paid = this.policy.paid;
    let at = paid ? Math.max(now, this.nextPaid, this.pausedUntil, paid.applies(dest) ? 0 : this.nextGlobal) : Math.max(now, this.nextGlobal, this.pausedUntil);
    const gw = this.policy.globalWindow;
    const share = this.share(kind);
    if (gw && share) {
      prune(share.times, now - gw.windowMs);
      if (share.count <= 0) return Infinity;
      if (share.times.length >= share.count) at = Math.max(at, share.times[share.times.length - share.count]! + gw.windowMs);
    }
    return Math.ceil(at - now);
  }

  /**
   * The send reserved earlier missed its slot (the process was busy): it takes the next slot of its shared
   * line again, so late sends do not go out in a burst. Its chat's own gap is not counted against it (it
   * is the same send). Returns how long to wait.
   */
  retake(dest: Destination, now: number, kind?: string): number {
    const wait = this.lineWait(dest, now, kind);
    const at = now + wait;
    const paid = this.policy.paid;
    if (paid) this.nextPaid = at + paid.gapMs;
    if (!paid?.applies(dest)) this.nextGlobal = at + this.policy.globalGapMs;
    const chat = this.chats.get(dest.chatId);
    if (chat) chat.last = Math.max(chat.last, at);
    return wait;
  }

  /** Which shared line a send to `dest` waits on: the paid ceiling's or the normal one. */
  lineOf(dest: Destination, kind?: string): string {
    return `${this.policy.paid?.applies(dest) ? 'paid' : 'free'}:${paceClass(kind)}`;
  }

  /**
   * Reserves the earliest slot for `dest` and returns how long to wait for it. Successive reservations
   * queue behind each other, so concurrent callers never exceed the policy.
   */
  reserve(dest: Destination, now: number, kind?: string): number {
    const wait = this.waitFor(dest, now, kind);
    const at = now + wait;
    const paid = this.policy.paid;
    // A late send may make up at most half a gap of the line it was late on, so the rhythm holds without bursts.
    const next = (line: number, gap: number) => (this.policy.catchUp ? Math.max(at - gap / 2, Math.min(at, line)) : at) + gap;
    if (paid) this.nextPaid = next(this.nextPaid, paid.gapMs);
    if (!paid?.applies(dest)) this.nextGlobal = next(this.nextGlobal, this.policy.globalGapMs) + (this.policy.globalJitterMs > 0 ? this.random() * this.policy.globalJitterMs : 0);
    let chat = this.chats.get(dest.chatId);
    if (!chat) {
      chat = { last: -Infinity, recent: [], pausedUntil: 0 };
      this.chats.set(dest.chatId, chat);
    }
    chat.last = at;
    if (this.policy.groupWindow && isGroupLike(dest)) chat.recent.push(at);
    this.share(kind)?.times.push(at);
    return wait;
  }

  /**
   * A call to `dest` came back (answered or failed). The chat's gap counts from here, not from the
   * reservation: a request that took long to arrive must not let the next one land less than a gap
   * after it (platforms count arrivals).
   */
  settled(dest: Destination, at: number): void {
    const chat = this.chats.get(dest.chatId);
    if (chat && at > chat.last) chat.last = at;
  }

  /**
   * Waits for this send's slot in the shared budget (no-op without one), at the policy's own global gap,
   * so a paid-broadcast ceiling set on the policy is the shared ceiling too. The chat's reservation moves
   * to when the message really goes, so the per-chat windows count arrivals.
   */
  async shared(dest: Destination, clock: () => number = Date.now): Promise<void> {
    if (!this.budget) return;
    // 2 % more margin than the local gap (95 % of the ceiling in all): slots are exact on the database's
    // clock, but the instances' requests reach the platform with more jitter than one process's.
    await waitShared(this.budget, this.policy.globalGapMs * 1.02, clock);
    const chat = this.chats.get(dest.chatId);
    const at = clock();
    if (chat && at > chat.last) {
      const recent = chat.recent;
      if (recent.length && recent[recent.length - 1] === chat.last) recent[recent.length - 1] = at;
      chat.last = at;
    }
  }

  /**
   * Sends to `dest` that another instance made lately (this one just took the chat over): they count in
   * the chat's gap and group window as if made here.
   */
  seed(dest: Destination, times: number[]): void {
    if (times.length === 0) return;
    const sorted = [...times].sort((a, b) => a - b);
    const chat = this.chats.get(dest.chatId) ?? { last: -Infinity, recent: [], pausedUntil: 0 };
    chat.last = Math.max(chat.last, sorted[sorted.length - 1]!);
    if (this.policy.groupWindow && isGroupLike(dest)) chat.recent = [...chat.recent, ...sorted].sort((a, b) => a - b);
    this.chats.set(dest.chatId, chat);
  }

  /** The platform said "too many requests" for this chat: nothing goes there before `until`. */
  pauseChat(chatId: string, until: number): void {
    const chat = this.chats.get(chatId) ?? { last: -Infinity, recent: [], pausedUntil: 0 };
    chat.pausedUntil = Math.max(chat.pausedUntil, until);
    this.chats.set(chatId, chat);
  }

  /** Nothing goes to any chat before `until` (a global flood wait, a restricted account). */
  pauseAll(until: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, until);
  }

  /** Drops state of chats idle for longer than every window, so memory stays flat over months. */
  sweep(now: number): void {
    const keep = Math.max(this.policy.chatGapMs, this.policy.groupWindow?.windowMs ?? 0);
    for (const [id, c] of this.chats) if (c.last + keep < now && c.pausedUntil < now) this.chats.delete(id);
  }
}

function prune(times: number[], before: number): void {
  let i = 0;
  while (i < times.length && times[i]! <= before) i++;
  if (i > 0) times.splice(0, i);
}
