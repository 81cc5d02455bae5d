/**
 * WhatsApp phone numbers as Manchete compares them: plain digits, nothing else. Editors are listed by
 * phone number, so the one rule for what counts as "the same number" lives here, used both when the
 * EDITORS setting is parsed and when an incoming sender is handed to the command router. Pure.
 */

/**
 * The digits of a WhatsApp number, or null when the input is not one: `+55 11 99999-8888`,
 * `5511999998888`, `5511999998888@s.whatsapp.net`, `5511999998888:3@s.whatsapp.net` (a linked device) and
 * `…@c.us` all give `5511999998888`. An `@lid` privacy id, a group JID (`…@g.us`), a channel, an empty
 * string or anything with letters gives null: such a sender can never be matched to a number.
 */
export function normalizeWhatsAppNumber(input: string | null | undefined): string | null {
  if (input == null) return null;
  let s = input.trim();
  const at = s.indexOf('@');
  if (at >= 0) {
    if (!/^(s\.whatsapp\.net|c\.us)$/i.test(s.slice(at + 1))) return null;
    s = s.slice(0, at).replace(/:\d+$/, '');
  }
  // Separators people type in a number (spaces, dashes, dots, parentheses) carry no meaning.
  s = s.replace(/^\+/, '').replace(/[\s().-]/g, '');
  return /^\d{5,20}$/.test(s) ? s : null;
}
