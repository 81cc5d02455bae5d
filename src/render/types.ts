
/** The platforms Manchete renders for. */
export type Platform = 'telegram' | 'whatsapp';

/**
 * One message ready for a platform, after rendering and fitting to its limits.
 * - Telegram: `text` is Telegram HTML (parse_mode HTML); `photo` carries `text` as the caption.
 * - WhatsApp: `text` uses WhatsApp markup (*bold*, _italic_); `image` carries `text` as the caption.
 */
export interface OutboundMessage {
  kind: 'text' | 'photo' | 'image';
  text: string;
  imageUrl?: string;
  /** For text messages: the URL the link preview should show (Telegram link_preview_options, WhatsApp own preview). */
  previewUrl?: string;
  /**
   * What the link preview card shows, for platforms that build it themselves (WhatsApp: Baileys does not
   * fetch previews, so Manchete sends title, description and a thumbnail made from `imageUrl`). Optional:
   * without it, WhatsApp text goes out without a preview card.
   */
  preview?: { title: string; description: string; imageUrl?: string };
  /** When a caption did not fit: the plain text version a client can fall back to. */
}

/** Per-destination rendering options (from the routes file or defaults). */
export interface RenderOptions {
  /** Template name under templates/<platform>/, without `.eta`. Default `article`. */
  template?: string;
  /** Locale for strings: `pt-BR` (default) or `en`. */
  locale?: string;
  /** Send the article image as a photo (Telegram) / image (WhatsApp) when the caption fits. Default true on Telegram, false on WhatsApp. */
  photo?: boolean;
  /** Campaign tags on the article link (render/utm.ts): `false` for none, or tags of its own. Default: the standard tags while UTM_TAGS is on. */
  utm?: UtmSetting;
}

/** Campaign tags (render/utm.ts), kept with the other render types so utm.ts and this file do not import each other. */
/** A destination's own tags; what is left out takes the default. */
export interface UtmTags {
  /** Default: the platform (`telegram`, `whatsapp`). */
  source?: string;
  /** Default: `social`. */
  medium?: string;
  /** Default: `manchete`. */
  campaign?: string;
  /** Not sent unless set. */
  content?: string;
}

/** Per destination: `false` sends links untagged; tags of its own; absent means the defaults. */
export type UtmSetting = false | UtmTags;
