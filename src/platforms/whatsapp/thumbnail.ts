/**
 * The JPEG thumbnail of Manchete's own WhatsApp link preview. WhatsApp embeds it in the message itself, so it
 * must stay small: about 50 KB at most. The image is shrunk and re-encoded with falling quality and size until
 * it fits; an image that cannot be decoded gives null (the message then goes out without a thumbnail).
 */
export interface ThumbnailOptions {
  /** Upper bound of the JPEG size in bytes (default 50 000). */
  maxBytes?: number;
  /** Longest side in pixels of the first try (default 320; WhatsApp shows previews at about 100–300 px). */
  maxSide?: number;
}

/** Largest input accepted, in pixels: a hostile "image" must not make sharp allocate gigabytes. */
const MAX_INPUT_PIXELS = 40_000_000;

export async function makeJpegThumbnail(image: Uint8Array, opts: ThumbnailOptions = {}): Promise<Buffer | null> {
  const maxBytes = opts.maxBytes ?? 50_000;
  let side = opts.maxSide ?? 320;
  const attempts: { side: number; quality: number }[] = [];
  for (let i = 0; i < 6; i++) {
    attempts.push({ side, quality: 75 - i * 10 > 30 ? 75 - i * 10 : 30 });
    side = Math.max(48, Math.round(side * 0.75));
  }
  // sharp (libvips) is loaded on the first thumbnail, not at start: an idle WhatsApp sender does not need
  // its native library in memory.
  const { default: sharp } = await import('sharp');
  try {
    for (const a of attempts) {
      const out = await sharp(image, { limitInputPixels: MAX_INPUT_PIXELS, failOn: 'error' })
        .rotate()
        .resize(a.side, a.side, { fit: 'inside', withoutEnlargement: true })
        .flatten({ background: '#ffffff' })
        .jpeg({ quality: a.quality, mozjpeg: true })
        .toBuffer();
      if (out.length <= maxBytes) return out;
    }
    return null;
  } catch {
    return null;
  }
}
