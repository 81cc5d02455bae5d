import type { Editor } from '../config.js';
import type { Platform } from '../render/types.js';

/**
 * Who is an editor. Both sides arrive already normalised: the EDITORS list when the configuration is
 * parsed (config.ts: WhatsApp numbers as digits, Telegram ids as integers) and the sender by its platform
 * adapter (WhatsApp: digits, or null for an unmapped `@lid`, a group JID or junk). So this is a plain
 * comparison of platform and id, with no platform's rules in it.
 */

/**
 * Whether a sender is on the EDITORS allow-list. Fails closed: a null or empty sender is never an editor,
 * and the platform must match as well as the id (Telegram user 42 is not WhatsApp number 42).
 */
export function isEditor(editors: readonly Editor[], platform: Platform, senderId: string | null | undefined): boolean {
  if (typeof senderId !== 'string' || senderId === '') return false;
  return editors.some((e) => e.platform === platform && e.id !== '' && e.id === senderId);
}
