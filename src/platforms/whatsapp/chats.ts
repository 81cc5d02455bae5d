/**
 * WHATSAPP_CHATS entries: what an operator may write and what each becomes.
 * - `120363025246125486@g.us`: a group, or a community (resolved to its announcement group on check);
 * - `120363144038483540@newsletter`: a channel;
 * - `https://whatsapp.com/channel/0029Va…`: a channel by invite link (resolved with newsletterMetadata);
 * - `5511999998888@s.whatsapp.net`: a private chat (allowed, but see docs/whatsapp.md on ban risk).
 */
export type WhatsAppChatKind = 'group' | 'newsletter' | 'channel_invite' | 'private';

export interface WhatsAppChat {
  /** The entry as written. */
  input: string;
  kind: WhatsAppChatKind;
  /**
   * The chat id Manchete stores as the destination's `chatId`: the JID, or for an invite link the link
   * itself (`https://whatsapp.com/channel/<code>`) until `check()` resolves it to a `…@newsletter` JID.
   */
  chatId: string;
  /** The channel invite code, for `channel_invite`. */
  inviteCode?: string;
}

/** Every bad entry of WHATSAPP_CHATS, each with what to write instead. */
export class WhatsAppChatsError extends Error {
  constructor(readonly problems: { input: string; problem: string }[]) {
    super(`WHATSAPP_CHATS has ${problems.length} bad entr${problems.length === 1 ? 'y' : 'ies'}: ${problems.map((p) => `"${p.input}": ${p.problem}`).join('; ')}`);
    this.name = 'WhatsAppChatsError';
  }
}

const CHANNEL_LINK = /^(?:https?:\/\/)?(?:www\.)?whatsapp\.com\/channel\/([A-Za-z0-9_-]{10,64})\/?(?:[?#].*)?$/i;
const GROUP_LINK = /^(?:https?:\/\/)?chat\.whatsapp\.com\//i;

/** Parses one entry; returns the chat or a problem in words. */
export function parseWhatsAppChat(raw: string): WhatsAppChat | { problem: string } {
  const input = raw.trim();
  if (input === '') return { problem: 'empty entry' };
  const channel = CHANNEL_LINK.exec(input);
  if (channel) {
    const code = channel[1]!;
    return { input, kind: 'channel_invite', chatId: `https://whatsapp.com/channel/${code}`, inviteCode: code };
  }
  if (GROUP_LINK.test(input)) {
    return {
      problem:
        'group invite links are not accepted (joining by link is up to the account owner): add the account to the group, then use the group JID (…@g.us)',
    };
  }
  if (/^\d{5,25}(-\d{5,15})?@g\.us$/.test(input)) return { input, kind: 'group', chatId: input };
  if (/^\d{5,25}@newsletter$/.test(input)) return { input, kind: 'newsletter', chatId: input };
  if (/^\d{6,15}@s\.whatsapp\.net$/.test(input)) return { input, kind: 'private', chatId: input };
  if (/^\+?\d[\d\s-]{5,20}$/.test(input)) {
    return { problem: `a bare phone number is not a destination; for a private chat write ${input.replace(/\D/g, '')}@s.whatsapp.net (prefer groups and channels)` };
  }
  if (/@(g\.us|newsletter|s\.whatsapp\.net)$/.test(input)) return { problem: 'the part before @ must be digits' };
  return {
    problem: 'not a WhatsApp destination; use a group JID (…@g.us), a channel JID (…@newsletter) or a channel link (https://whatsapp.com/channel/…)',
  };
}

/** Parses the whole list; throws WhatsAppChatsError naming every bad entry. Blanks and duplicates are dropped. */
export function parseWhatsAppChats(list: readonly string[]): WhatsAppChat[] {
  const out: WhatsAppChat[] = [];
  const problems: { input: string; problem: string }[] = [];
  const seen = new Set<string>();
  for (const raw of list) {
    if (raw.trim() === '') continue;
    const r = parseWhatsAppChat(raw);
    if ('problem' in r) problems.push({ input: raw, problem: r.problem });
    else if (!seen.has(r.chatId)) {
      seen.add(r.chatId);
      out.push(r);
    }
  }
  if (problems.length > 0) throw new WhatsAppChatsError(problems);
  return out;
}
