import { createRequire } from 'node:module';
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

/** LOG_FORMAT: `auto` picks by where the lines go; `json` and `pretty` force one. */
export type LogFormat = 'auto' | 'json' | 'pretty';

/**
 * JSON lines for log collectors and files, readable lines for a person at a terminal: `auto` is pretty
 * exactly when the log's stream is a TTY (`npm start` in a terminal), JSON when it is piped or redirected.
 */
export function resolveLogFormat(format: LogFormat, isTTY: boolean): 'json' | 'pretty' {
  if (format === 'auto') return isTTY ? 'pretty' : 'json';
  return format;
}

/** The `write` side of a stream: what the pretty printer needs from stdout or a test's collector. */
interface LineSink {
  write(s: string): unknown;
}

/**
 * pino-pretty used as a plain function in this thread, not as a transport: lines stay in order with the
 * preview blocks printed to stdout, no worker thread costs memory, and the `streamWrite` hook (value
 * redaction) has already run on the JSON line it receives. Loaded only when asked for.
 */
function prettyStream(target: LineSink, colorize: boolean): DestinationStream {
  const { prettyFactory } = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  const prettify = prettyFactory({ colorize, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,name' });
  return { write: (line: string) => void target.write(prettify(line)) };
}

/**
 * The process logger: pino, secrets redacted by path and, for the bot token, by value wherever it appears
 * in a message or an error (the `secrets` list). `format: 'pretty'` (or the older `pretty: true`) prints
 * readable lines to `stream` (stdout when none is given); otherwise JSON lines.
 */
export function createLogger(
  opts: { level?: string; secrets?: readonly string[]; format?: 'json' | 'pretty'; pretty?: boolean; colorize?: boolean } = {},
  stream?: DestinationStream,
): Logger {
  const secrets = (opts.secrets ?? []).filter((s) => s.length >= 6);
  const hooks =
    secrets.length === 0
      ? undefined
      : {
          streamWrite: (line: string) => scrub(line, secrets),
        };
  const pretty = (opts.format ?? (opts.pretty ? 'pretty' : 'json')) === 'pretty';
  const destination = pretty ? prettyStream(stream ?? process.stdout, opts.colorize ?? false) : stream;
  return pino(
    {
      name: 'manchete',
      level: opts.level ?? 'info',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      ...(hooks ? { hooks } : {}),
    },
    destination as DestinationStream,
  );
}
