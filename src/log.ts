import pino, { type Logger, type DestinationStream } from 'pino';

export type { Logger };

/**
 * Paths pino blanks out in every log line. Tokens reach logs mostly through error objects that carry the
 * request (telegraf puts the bot token in the URL), so error fields are covered as well as config keys.
 */
export const REDACT_PATHS = [
  'token',
  'botToken',
  '*.token',
  '*.botToken',
  'config.telegram.token',
  'telegram.token',
  'headers.authorization',
  '*.headers.authorization',
  'secret',
  '*.secret',
  'webhookSecret',
  '*.webhookSecret',
];

/** Replaces every occurrence of each secret in a string: for error messages built by libraries. */
export function scrub(text: string, secrets: readonly (string | undefined | null)[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 6) out = out.split(s).join('[redacted]');
  return out;
}

/**
 * The process logger: JSON lines (pino), secrets redacted by path and, for the bot token, by value
 * wherever it appears in a message or an error (the `secrets` list).
 */
export function createLogger(
  opts: { level?: string; secrets?: readonly string[]; pretty?: boolean } = {},
  stream?: DestinationStream,
): Logger {
  const secrets = (opts.secrets ?? []).filter((s) => s.length >= 6);
  const hooks =
    secrets.length === 0
      ? undefined
      : {
          streamWrite: (line: string) => scrub(line, secrets),
        };
  const transport =
    opts.pretty && !stream ? { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss' } } : undefined;
  return pino(
    {
      name: 'manchete',
      level: opts.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      ...(hooks ? { hooks } : {}),
      ...(transport ? { transport } : {}),
    },
    stream as DestinationStream,
  );
}
