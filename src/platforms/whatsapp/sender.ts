// Baileys' JID helper from its own small module: the package index loads all of Baileys (about 50 MB).
import { jidNormalizedUser } from '@whiskeysockets/baileys/lib/WABinary/jid-utils.js';
import type { AnyMessageContent, BaileysEventMap, GroupMetadata, GroupParticipant, NewsletterMetadata, WAUrlInfo } from '@whiskeysockets/baileys';
import { PlatformSendError, type Destination, type DestinationCheck, type PlatformSender, type SentMessage } from '../../delivery/types.js';
import type { Logger } from '../../log.js';
import type { OutboundMessage } from '../../render/types.js';
import { parseWhatsAppChat } from './chats.js';
import type { WhatsAppConnection } from './connection.js';
import { Lru } from './lru.js';
import { errorMessage, errorStatusCode, type SocketLike } from './socket.js';
import { makeJpegThumbnail, type ThumbnailOptions } from './thumbnail.js';

/**
 * The WhatsApp side of the PlatformSender seam: turns an OutboundMessage into a Baileys message and
 * classifies what WhatsApp answers. It never waits, paces or retries: the dispatcher does (gap 4–8 s,
 * per-chat gap, hourly cap), asking `ready()` first.
 *
 * - Text goes out with Manchete's own link preview (title, description, a small JPEG thumbnail made from the
 *   article image): Baileys only builds previews with an extra package, and fetching pages from the socket
 *   process is not its job.
 * - `image` messages go to groups as an image with caption. Channels (`…@newsletter`) get text instead:
 *   media sends to channels fail in Baileys 7.0.0-rc14.
 * - Communities are never posted to directly: the parent is resolved to its announcement group.
 */
export interface WhatsAppSenderOptions {
  connection: WhatsAppConnection;
  logger: Logger;
  /** Downloads an image (article photo) as bytes. Without it, images are handed to Baileys by URL and text has no thumbnail. */
  fetchImage?: (url: string) => Promise<Uint8Array>;
  thumbnail?: ThumbnailOptions;
}

/** A later report about a message Manchete sent (`messages.update`): the lead records it on the delivery. */
export interface WhatsAppMessageUpdate {
  messageId: string;
  chatId: string;
  /** Delivery status when WhatsApp reports one. */
  status: 'error' | 'pending' | 'server_ack' | 'delivered' | 'read' | 'played' | null;
  /** The error as WhatsApp gave it (`463`, `479`, …) with Baileys' explanation, when status is error. */
  error: string | null;
  /** True for 463: the account is restricted (the connection already paused sends). */
  restricted: boolean;
  /** The message was deleted (revoked) after sending. */
  revoked: boolean;
}

export interface WhatsAppSender extends PlatformSender {
  /** Listens to updates about messages this sender sent; returns the unsubscribe function. */
  onMessageUpdate(listener: (update: WhatsAppMessageUpdate) => void): () => void;
}

const STATUS: Record<number, WhatsAppMessageUpdate['status']> = {
  0: 'error',
  1: 'pending',
  2: 'server_ack',
  3: 'delivered',
  4: 'read',
  5: 'played',
};
/** messageStubType REVOKE (proto.WebMessageInfo.StubType.REVOKE). */
const STUB_REVOKE = 1;

/**
 * Maps whatever a Baileys call threw to the dispatcher's error classes:
 * 463 / reachout timelock → restricted; 403 / 401 / "not-authorized" / "forbidden" and 404 "item-not-found"
 * → gone; 429 "rate-overlimit" → rate_limited; connection closed, timeouts, 5xx → transient; else permanent.
 */
export function classifyWhatsAppError(err: unknown, chatId: string): PlatformSendError {
  if (err instanceof PlatformSendError) return err;
  const code = errorStatusCode(err);
  const msg = errorMessage(err);
  const what = `WhatsApp answered ${code ?? 'an error'} (${msg}) for ${chatId}`;
  if (code === 463 || /reachout|account.*restricted/i.test(msg)) {
    return new PlatformSendError('restricted', `${what}: the account is restricted; sends pause and resume by themselves`, { code: 463 });
  }
  if (code === 401 || code === 403 || /not-authorized|forbidden|not.admin/i.test(msg)) {
    return new PlatformSendError('gone', `${what}: the account may not post there (removed, or not an admin); add it back and make it an admin`, { code: code ?? 403 });
  }
  if (code === 404 || /item-not-found/i.test(msg)) {
    return new PlatformSendError('gone', `${what}: the chat does not exist or the account left it`, { code: 404 });
  }
  if (code === 429 || /rate-overlimit/i.test(msg)) {
    return new PlatformSendError('rate_limited', `${what}: WhatsApp asks to slow down`, { code: 429, retryAfterMs: 60_000 });
  }
  if (
    (code !== null && [408, 428, 440, 500, 503, 515].includes(code)) ||
    /connection (closed|lost|terminated)|timed? ?out|ECONN|EPIPE|socket/i.test(msg)
  ) {
    return new PlatformSendError('transient', `${what}; will retry`, code === null ? {} : { code });
  }
  return new PlatformSendError('permanent', what, code === null ? {} : { code });
}

export function createWhatsAppSender(opts: WhatsAppSenderOptions): WhatsAppSender {
  const { connection } = opts;
  const log = opts.logger.child({ platform: 'whatsapp' });
  /** Ids of messages this sender sent → their chat, to pick our updates out of `messages.update`. */
  const sentIds = new Lru<string, string>(2_000);
  /** Channel invite link → channel JID; community parent → announcement group JID. */
  const resolved = new Map<string, string>();
  const updateListeners = new Set<(u: WhatsAppMessageUpdate) => void>();

  connection.on('messages.update', (updates) => {
    if (updateListeners.size === 0) return;
    for (const u of updates) {
      const id = u.key.id;
      if (!id || !sentIds.has(id)) continue;
      const update = toMessageUpdate(u, sentIds.get(id) ?? u.key.remoteJid ?? '');
      if (!update) continue;
      for (const l of updateListeners) {
        try {
          l(update);
        } catch (err) {
          log.error({ err: errorMessage(err) }, 'a WhatsApp message-update listener threw');
        }
      }
    }
  });

  /** The open socket, or the reason the dispatcher must wait. */
  function requireSocket(): SocketLike {
    const state = connection.state();
    if (state === 'restricted') {
      const until = connection.status().restrictedUntil;
      throw new PlatformSendError('restricted', `WhatsApp restricts the account${until ? ` until ${until.toISOString()}` : ''}; sends are paused`, {
        code: 463,
        ...(until ? { retryAfterMs: Math.max(0, until.getTime() - Date.now()) } : {}),
      });
    }
    const sock = connection.socket();
    if (state !== 'open' || !sock) {
      throw new PlatformSendError('transient', `WhatsApp is not connected (state ${state}: ${connection.status().reason}); the message waits`);
    }
    return sock;
  }

  /** The JID to post to: invite links resolved to channels, communities to their announcement group. */
  async function resolveChat(sock: SocketLike, chatId: string): Promise<string> {
    const known = resolved.get(chatId);
    if (known) return known;
    const parsed = parseWhatsAppChat(chatId);
    if ('problem' in parsed) throw new PlatformSendError('permanent', `"${chatId}" is not a WhatsApp destination: ${parsed.problem}`);
    if (parsed.kind === 'channel_invite') {
      const meta = await sock.newsletterMetadata('invite', parsed.inviteCode!);
      if (!meta?.id) throw new PlatformSendError('gone', `the channel link ${chatId} does not lead to a channel (revoked or mistyped)`, { code: 404 });
      resolved.set(chatId, meta.id);
      return meta.id;
    }
    if (parsed.kind === 'group') {
      const meta = await connection.groupMetadata(parsed.chatId);
      if (meta.isCommunity) {
        const announce = await findAnnouncementGroup(sock, meta);
        if (!announce) {
          throw new PlatformSendError('permanent', `${chatId} is a community and the account is not in its announcement group; Manchete never posts to a community parent`);
        }
        resolved.set(chatId, announce.id);
        return announce.id;
      }
    }
    return parsed.chatId;
  }

  async function thumbnailFor(url: string | undefined): Promise<Buffer | undefined> {
    if (!url || !opts.fetchImage) return undefined;
    try {
      const bytes = await opts.fetchImage(url);
      return (await makeJpegThumbnail(bytes, opts.thumbnail)) ?? undefined;
    } catch (err) {
      log.debug({ err: errorMessage(err), url }, 'no thumbnail for the link preview: the image could not be fetched');
      return undefined;
    }
  }

  async function linkPreview(dest: Destination, message: OutboundMessage): Promise<WAUrlInfo | null> {
    if (dest.options.linkPreview === false || !message.preview) return null;
    const url = message.previewUrl ?? /https?:\/\/\S+/.exec(message.text)?.[0];
    if (!url) return null;
    const thumb = await thumbnailFor(message.preview.imageUrl ?? message.imageUrl);
    return {
      'canonical-url': url,
      'matched-text': url,
      title: message.preview.title,
      description: message.preview.description,
      ...(thumb ? { jpegThumbnail: thumb } : {}),
    };
  }

  async function buildContent(
    jid: string,
    dest: Destination,
    message: OutboundMessage,
  ): Promise<{ content: AnyMessageContent; degraded?: SentMessage['degraded'] }> {
    const wantsImage = (message.kind === 'image' || message.kind === 'photo') && Boolean(message.imageUrl);
    if (wantsImage && !jid.endsWith('@newsletter')) {
      const url = message.imageUrl!;
      if (!opts.fetchImage) return { content: { image: { url }, caption: message.text } };
      try {
        const bytes = await opts.fetchImage(url);
        return { content: { image: Buffer.from(bytes), caption: message.text } };
      } catch (err) {
        log.warn({ err: errorMessage(err), url, chat: jid }, 'article image could not be fetched; sending text with a link preview instead');
      }
    }
    const content: AnyMessageContent = { text: message.text, linkPreview: await linkPreview(dest, message) };
    return wantsImage ? { content, degraded: 'text_instead_of_photo' } : { content };
  }

  return {
    platform: 'whatsapp',

    ready() {
      return connection.state() === 'open' && connection.socket() !== null;
    },

    async send(dest, message) {
      const sock = requireSocket();
      let jid = dest.chatId;
      try {
        jid = await resolveChat(sock, dest.chatId);
        const { content, degraded } = await buildContent(jid, dest, message);
        const sent = await sock.sendMessage(jid, content);
        const id = sent?.key?.id;
        if (!id) throw new PlatformSendError('permanent', `WhatsApp returned no message id for the message to ${jid}`);
        connection.rememberSent(sent);
        sentIds.set(id, jid);
        return degraded ? { messageId: id, degraded, kind: 'text' } : { messageId: id };
      } catch (err) {
        throw fail(err, jid);
      }
    },

    async edit(dest, messageId, message) {
      const sock = requireSocket();
      let jid = dest.chatId;
      try {
        jid = await resolveChat(sock, dest.chatId);
        const sent = await sock.sendMessage(jid, { text: message.text, edit: { remoteJid: jid, fromMe: true, id: messageId } });
        connection.rememberSent(sent);
      } catch (err) {
        throw fail(err, jid);
      }
    },

    async check(dest) {
      const sock = connection.socket();
      if (!sock) return { ok: false, message: `WhatsApp is not connected (state ${connection.state()}); checked again once it connects` };
      const parsed = parseWhatsAppChat(dest.chatId);
      if ('problem' in parsed) return { ok: false, message: parsed.problem };
      try {
        if (parsed.kind === 'newsletter' || parsed.kind === 'channel_invite') {
          const meta =
            parsed.kind === 'newsletter'
              ? await sock.newsletterMetadata('jid', parsed.chatId)
              : await sock.newsletterMetadata('invite', parsed.inviteCode!);
          return checkNewsletter(meta, parsed.kind === 'channel_invite', (id) => resolved.set(dest.chatId, id));
        }
        if (parsed.kind === 'private') {
          return { ok: true, kind: 'private', message: 'ok, can post (a private chat: mind the ban risk, see docs/whatsapp.md)' };
        }
        const meta = await connection.groupMetadata(parsed.chatId);
        if (meta.isCommunity) {
          const announce = await findAnnouncementGroup(sock, meta);
          if (!announce) {
            return {
              ok: false,
              kind: 'community',
              title: meta.subject,
              message: 'a community whose announcement group the account is not in: add the account to the community as an admin (Manchete never posts to the community parent)',
            };
          }
          resolved.set(dest.chatId, announce.id);
          return { ...checkGroup(sock, announce, 'community'), resolvedChatId: announce.id, title: meta.subject };
        }
        return checkGroup(sock, meta, meta.isCommunityAnnounce ? 'community' : 'group');
      } catch (err) {
        const e = classifyWhatsAppError(err, dest.chatId);
        if (e.kind === 'gone') {
          return { ok: false, gone: true, message: 'the account is not a member of this chat, or it does not exist: add the account to it' };
        }
        return { ok: false, message: `could not check: ${e.message}` };
      }
    },

    onMessageUpdate(listener) {
      updateListeners.add(listener);
      return () => updateListeners.delete(listener);
    },
  };

  function fail(err: unknown, jid: string): PlatformSendError {
    const e = classifyWhatsAppError(err, jid);
    if (e.kind === 'restricted') connection.markRestricted(`a send to ${jid} failed: ${e.message}`);
    return e;
  }
}

/** A community's announcement group among the groups the account is in; null when it is not in it. */
async function findAnnouncementGroup(sock: SocketLike, community: GroupMetadata): Promise<GroupMetadata | null> {
  const all = await sock.groupFetchAllParticipating();
  return Object.values(all).find((g) => g.linkedParent === community.id && g.isCommunityAnnounce) ?? null;
}

/** Is this participant the connected account (by phone JID or LID, devices ignored)? */
function isSelf(sock: SocketLike, p: GroupParticipant): boolean {
  const own = new Set<string>();
  for (const j of [sock.user?.id, sock.user?.lid, sock.user?.phoneNumber]) if (j) own.add(jidNormalizedUser(j));
  return [p.id, p.lid, p.phoneNumber].some((j) => Boolean(j) && own.has(jidNormalizedUser(j!)));
}

function checkGroup(sock: SocketLike, meta: GroupMetadata, kind: 'group' | 'community'): DestinationCheck {
  const me = meta.participants.find((p) => isSelf(sock, p));
  const base = { kind, title: meta.subject };
  if (!me) return { ...base, ok: false, gone: true, message: 'the account is not a member of this group: add it (as an admin)' };
  const admin = me.admin === 'admin' || me.admin === 'superadmin' || me.isAdmin === true || me.isSuperAdmin === true;
  if (meta.announce && !admin) {
    return { ...base, ok: false, message: 'the account is not an admin of this announcement group: make it an admin' };
  }
  return { ...base, ok: true, message: admin ? 'ok, can post' : 'ok, can post (not an admin: any member may post here)' };
}

/** Channel roles come in the raw answer (`viewer_metadata.role`), which Baileys' type does not declare. */
function checkNewsletter(meta: NewsletterMetadata | null, viaInvite: boolean, remember: (id: string) => void): DestinationCheck {
  if (!meta?.id) return { ok: false, gone: true, kind: 'newsletter', message: 'channel not found: check the JID or the link' };
  const raw = meta as unknown as { name?: unknown; viewer_metadata?: { role?: unknown }; thread_metadata?: { name?: unknown } };
  const title = textOf(raw.name) ?? textOf(raw.thread_metadata?.name) ?? undefined;
  const role = typeof raw.viewer_metadata?.role === 'string' ? raw.viewer_metadata.role.toUpperCase() : null;
  if (viaInvite) remember(meta.id);
  const base = { kind: 'newsletter' as const, ...(title ? { title } : {}), ...(viaInvite ? { resolvedChatId: meta.id } : {}) };
  if (role === 'OWNER' || role === 'ADMIN') return { ...base, ok: true, message: 'ok, can post' };
  if (role === null) return { ...base, ok: true, message: 'ok, can post (WhatsApp did not report the account\'s role in this channel)' };
  return { ...base, ok: false, message: `the account is a ${role.toLowerCase()} of this channel: make it an admin of the channel` };
}

function textOf(v: unknown): string | null {
  if (typeof v === 'string' && v) return v;
  if (typeof v === 'object' && v && typeof (v as { text?: unknown }).text === 'string') return (v as { text: string }).text;
  return null;
}

function toMessageUpdate(u: BaileysEventMap['messages.update'][number], chatId: string): WhatsAppMessageUpdate | null {
  const status = typeof u.update.status === 'number' ? (STATUS[u.update.status] ?? null) : null;
  const params: unknown[] = Array.isArray(u.update.messageStubParameters) ? u.update.messageStubParameters : [];
  const revoked = u.update.messageStubType === STUB_REVOKE || (u.update.message === null && 'message' in u.update);
  if (status === null && !revoked && params.length === 0) return null;
  const error = status === 'error' || params.length > 0 ? params.map(String).join(': ') || 'unknown error' : null;
  return {
    messageId: u.key.id!,
    chatId,
    status,
    error,
    restricted: params.some((p) => String(p) === '463'),
    revoked,
  };
}
