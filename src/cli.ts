import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import type { Config } from './config.js';
import type { Logger } from './log.js';
import type { Platform } from './render/types.js';

/**
 * `manchete <command>`: the operator's entry point. Every command reads the same configuration
 * (environment + `.env`), and every failure ends with one line saying what went wrong and exit code 1.
 *
 * Each command declares its options once (`CommandSpec`): the parser (`util.parseArgs`, strict) and the
 * `--help` text are both made from that declaration, so they cannot disagree. `--help` is answered before
 * anything else runs, and this module imports nothing heavy at the top, so asking for help never reads the
 * configuration, opens the database, or touches the network or a WhatsApp session.
 */

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  env: Record<string, string | undefined>;
  /** stdout is a terminal: `feeds import` draws a progress bar there (plain lines otherwise). */
  tty?: boolean;
  /** Where the progress bar is drawn when `tty` (process.stdout by default). */
  progress?: NodeJS.WritableStream;
  /** Everything on standard input (the password for `desk hash-password`); process.stdin by default. */
  stdin?: () => Promise<string>;
}

/** One option as the operator types it: `--name VALUE` (string) or `--name` (boolean). */
interface OptionSpec {
  type: 'string' | 'boolean';
  /** What the value looks like in the help text (`N`, `24h`, `telegram|whatsapp|both`). String options only. */
  value?: string;
  /** Shown in the help text; the command applies it (parseArgs leaves the value undefined). */
  default?: string;
  help: string;
}

type Values = Record<string, string | boolean | undefined>;

interface CommandSpec {
  /** As typed: `preview`, `whatsapp login`. */
  name: string;
  /** The positional part of the usage line: `<url> [destination...]`. Empty when there is none. */
  args: string;
  /** Fewest and most positional arguments (null: no upper bound). */
  positionals: { min: number; max: number | null; missing?: string };
  summary: string;
  options: Record<string, OptionSpec>;
  run: (values: Values, positionals: string[], io: CliIo) => Promise<number>;
}

class UsageError extends Error {}

const HELP_OPTION: OptionSpec = { type: 'boolean', help: 'Print this help and exit.' };

const str = (v: Values, name: string, fallback: string): string => {
  const x = v[name];
  return typeof x === 'string' ? x : fallback;
};
const optStr = (v: Values, name: string): string | undefined => {
  const x = v[name];
  return typeof x === 'string' ? x : undefined;
};

const COMMANDS: CommandSpec[] = [
  {
    name: 'start',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'Poll the feeds and post new articles (the default; what `npm start` runs).',
    options: {},
    run: (_v, _p, io) => cmdStart(io),
  },
  {
    name: 'preview',
    args: '<feed|file|page-url>',
    positionals: { min: 1, max: 1, missing: 'preview needs a feed URL, a file or an article URL' },
    summary: 'Print what each platform would receive, without sending or writing anything.',
    options: {
      platform: { type: 'string', value: 'telegram|whatsapp|both', default: 'both', help: 'Which platforms to render for.' },
      limit: { type: 'string', value: 'N', default: '5', help: 'How many articles to show (the most recent).' },
      json: { type: 'boolean', help: 'One JSON object per article, one per line (for scripts).' },
      explain: { type: 'boolean', help: 'Say for each configured destination whether the article would go there, and why.' },
    },
    run: (v, p, io) => cmdPreview(v, p[0]!, io),
  },
  {
    name: 'push',
    args: '<url> [destination...]',
    positionals: { min: 1, max: null, missing: 'push needs an http(s) article URL' },
    summary: 'Queue an article page for the configured destinations (or the ones named) ahead of everything else.',
    options: {},
    run: (_v, p, io) => cmdPush(p[0]!, p.slice(1), io),
  },
  {
    name: 'whatsapp login',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'Pair the WhatsApp account: a QR code to scan, or a pairing code with --phone.',
    options: {
      phone: { type: 'string', value: '5511999998888', help: 'The number with country code, digits only: pair with a code instead of a QR code.' },
      force: { type: 'boolean', help: 'Pair again even though the session is already paired.' },
    },
    run: (v, _p, io) => cmdWhatsAppLogin(v, io),
  },
  {
    name: 'feeds',
    args: '[subcommand]',
    positionals: { min: 0, max: 1 },
    summary: 'The feeds polled. Subcommands: list (the default), add, remove, import, export (see `manchete feeds add --help`).',
    options: {},
    run: (_v, p, io) => {
      if (p.length) throw new UsageError(`unknown subcommand "${p[0]}" of feeds; use one of ${FEEDS_SUBCOMMANDS.join(', ')}`);
      return cmdFeedsList({}, io);
    },
  },
  {
    name: 'feeds list',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'Every feed polled, configured or added at run time: origin, section, interval and health (last ok, failures, last error, next poll).',
    options: { json: { type: 'boolean', help: 'One JSON object per feed, one per line (for scripts).' } },
    run: (v, _p, io) => cmdFeedsList(v, io),
  },
  {
    name: 'feeds add',
    args: '<url>',
    positionals: { min: 1, max: 1, missing: 'feeds add needs the feed\'s http(s) URL' },
    summary: 'Check a feed (fetch, parse, show its first items) and add it if it works; a running Manchete polls it at its next tick.',
    options: {
      section: { type: 'string', value: 'S', help: 'The section its items get when they name none.' },
      interval: { type: 'string', value: '5m', help: 'Poll it this often instead of POLL_INTERVAL (at least 30s).' },
    },
    run: (v, p, io) => cmdFeedsAdd(v, p[0]!, io),
  },
  {
    name: 'feeds remove',
    args: '<url>',
    positionals: { min: 1, max: 1, missing: 'feeds remove needs the URL of a feed added at run time' },
    summary: 'Stop polling a feed added at run time (its articles stay). Configured feeds are removed from FEED_URLS or the routes file.',
    options: {},
    run: (_v, p, io) => cmdFeedsRemove(p[0]!, io),
  },
  {
    name: 'feeds import',
    args: '<file.opml>',
    positionals: { min: 1, max: 1, missing: 'feeds import needs an OPML file' },
    summary: 'Add every feed of an OPML file (nested folders too), each checked first; then a summary of what failed and why. Exit 1 if any failed.',
    options: {
      concurrency: { type: 'string', value: 'N', default: 'FEEDS_IMPORT_CONCURRENCY', help: 'Feeds checked at once.' },
      'per-host': { type: 'string', value: 'N', default: 'FEEDS_IMPORT_PER_HOST', help: 'Feeds checked at once on one host.' },
    },
    run: (v, p, io) => cmdFeedsImport(v, p[0]!, io),
  },
  {
    name: 'feeds export',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'Write every feed polled (configured and added at run time) to stdout as OPML 2.0.',
    options: {},
    run: (_v, _p, io) => cmdFeedsExport(io),
  },
  {
    name: 'status',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'The instances running on this database: what each holds (feeds being polled, the Telegram updates lease, WhatsApp sessions, chats) and its last heartbeat.',
    options: { all: { type: 'boolean', help: 'Also list instances that stopped heartbeating (dead) in the last day.' } },
    run: (v, _p, io) => cmdStatus(v.all === true, io),
  },
  {
    name: 'requeue',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'Send again the deliveries that failed (after an outage) in that time; attempts start over.',
    options: { since: { type: 'string', value: '24h', default: '24h', help: 'How far back to look (a duration: 30m, 2h, 1d).' } },
    run: (v, _p, io) => cmdRequeue(str(v, 'since', '24h'), io),
  },
  {
    name: 'desk hash-password',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'Read a password on standard input and print name:bcrypt-hash for ADMIN_USERS (the web desk). Example: printf %s "$PASS" | manchete desk hash-password --user ana',
    options: {
      user: { type: 'string', value: 'NAME', default: 'admin', help: 'The sign-in name (letters, digits, . _ -).' },
      rounds: { type: 'string', value: 'N', default: '12', help: 'bcrypt cost (10–15; each step doubles the time).' },
    },
    run: (v, _p, io) => cmdHashPassword(v, io),
  },
  {
    name: 'doctor',
    args: '',
    positionals: { min: 0, max: 0 },
    summary: 'Check the configuration, the templates, the database and the destinations.',
    options: {},
    run: (_v, _p, io) => cmdDoctor(io),
  },
  {
    name: 'help',
    args: '[command]',
    positionals: { min: 0, max: 2 },
    summary: 'This text, or the usage and options of one command.',
    options: {},
    run: async (_v, p, io) => {
      if (p.length === 0) {
        io.out(mainHelp());
        return 0;
      }
      const name = p.join(' ');
      const spec = COMMANDS.find((c) => c.name === name) ?? (name === 'whatsapp' ? WHATSAPP_GROUP : undefined);
      if (!spec) throw new UsageError(`unknown command "${name}"`);
      io.out(commandHelp(spec));
      return 0;
    },
  },
];

const FEEDS_SUBCOMMANDS = ['list', 'add', 'remove', 'import', 'export'];

/** `manchete whatsapp` alone: a group with one subcommand, so its help points at it. */
const WHATSAPP_GROUP: CommandSpec = {
  name: 'whatsapp',
  args: '<subcommand>',
  positionals: { min: 1, max: 1, missing: 'whatsapp takes one subcommand: login' },
  summary: 'WhatsApp account tasks. Subcommand: login (see `manchete whatsapp login --help`).',
  options: {},
  run: async () => {
    throw new UsageError('whatsapp takes one subcommand: login');
  },
};

/** `[--platform telegram|whatsapp|both] [--limit N] [--json]`, from the declaration. */
function optionSynopsis(spec: CommandSpec): string {
  return Object.entries(spec.options)
    .map(([name, o]) => (o.type === 'string' ? `[--${name} ${o.value ?? 'VALUE'}]` : `[--${name}]`))
    .join(' ');
}

function usageLine(spec: CommandSpec): string {
  return ['manchete', spec.name, spec.args, optionSynopsis(spec)].filter(Boolean).join(' ');
}

/** The help text of one command, generated from its declaration. */
export function commandHelp(spec: CommandSpec): string {
  const rows: [string, string][] = Object.entries({ ...spec.options, help: HELP_OPTION }).map(([name, o]) => [
    `${name === 'help' ? '-h, ' : '    '}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`,
    o.default !== undefined ? `${o.help.replace(/\.$/, '')} (default ${o.default}).` : o.help,
  ]);
  const width = Math.max(...rows.map(([l]) => l.length));
  return [
    `Usage: ${usageLine(spec)}`,
    '',
    spec.summary,
    '',
    'Options:',
    ...rows.map(([l, r]) => `  ${l.padEnd(width)}  ${r}`),
    '',
    'Settings come from the environment and .env; see .env.example.',
  ].join('\n');
}

function mainHelp(): string {
  return [
    'Usage: manchete <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.flatMap((c) => [`  ${usageLine(c).replace(/^manchete /, '')}`, `      ${c.summary}`]),
    '',
    'Run `manchete <command> --help` for the options of a command.',
    'Settings come from the environment and .env; see .env.example.',
  ].join('\n');
}

/**
 * Telegram chat ids are negative numbers (`-1001234567890`, `-1001234567890:42` for a topic); parseArgs
 * would read them as short options. They are never options here, so they are parsed as arguments.
 */
const NEGATIVE_ID = /^-\d[\d:]*$/;

/** Parses a command's arguments against its declaration: values, positionals, or a UsageError. */
function parseCommandArgs(spec: CommandSpec, args: string[]): { help: boolean; values: Values; positionals: string[] } {
  const held: string[] = [];
  const masked = args.map((a) => (NEGATIVE_ID.test(a) ? `\u0000${held.push(a) - 1}` : a));
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const [name, o] of Object.entries(spec.options)) options[name] = { type: o.type };
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args: masked, options, allowPositionals: true, strict: true }) as { values: Values; positionals: string[] };
  } catch (err) {
    throw new UsageError(parseArgsMessage(err, spec));
  }
  const positionals = parsed.positionals.map((p) => (p.startsWith('\u0000') ? held[Number(p.slice(1))]! : p));
  const help = parsed.values.help === true;
  if (!help) {
    const { min, max, missing } = spec.positionals;
    if (positionals.length < min) throw new UsageError(missing ?? `${spec.name} needs ${spec.args}`);
    if (max !== null && positionals.length > max) throw new UsageError(`unexpected argument "${positionals[max]}" for \`manchete ${spec.name}\``);
  }
  return { help, values: parsed.values, positionals };
}

/** parseArgs' messages run to two sentences and a suggestion; the operator gets one line naming the option. */
function parseArgsMessage(err: unknown, spec: CommandSpec): string {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  const option = /'(-[^' ]+)/.exec(message)?.[1] ?? '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option "${option}" for \`manchete ${spec.name}\``;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const o = spec.options[option.replace(/^--/, '')];
    return o?.type === 'boolean' ? `${option} takes no value` : `${option} needs a value${o?.value ? ` (${o.value})` : ''}`;
  }
  return message.split('\n')[0]!;
}

/** Which command the arguments name, and the arguments left for it. */
function pickCommand(argv: string[]): { spec: CommandSpec; rest: string[] } | { unknown: string } {
  const [first, ...rest] = argv;
  if (first === undefined) return { spec: COMMANDS[0]!, rest: [] };
  if (first === '--help' || first === '-h') return { spec: COMMANDS.find((c) => c.name === 'help')!, rest };
  // `manchete --some-option` is the default command's option (and its error names the command).
  if (first.startsWith('-')) return { spec: COMMANDS[0]!, rest: argv };
  if (first === 'feeds' && rest[0] !== undefined && FEEDS_SUBCOMMANDS.includes(rest[0])) {
    const [sub, ...subRest] = rest;
    return { spec: COMMANDS.find((c) => c.name === `feeds ${sub}`)!, rest: subRest };
  }
  if (first === 'desk') {
    const [sub, ...subRest] = rest;
    if (sub === 'hash-password') return { spec: COMMANDS.find((c) => c.name === 'desk hash-password')!, rest: subRest };
    return { unknown: `desk ${sub ?? ''}`.trim() };
  }
  if (first === 'whatsapp') {
    const [sub, ...subRest] = rest;
    if (sub === 'login') return { spec: COMMANDS.find((c) => c.name === 'whatsapp login')!, rest: subRest };
    return { spec: WHATSAPP_GROUP, rest };
  }
  const spec = COMMANDS.find((c) => c.name === first);
  return spec ? { spec, rest } : { unknown: first };
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    const picked = pickCommand(argv);
    if ('unknown' in picked) {
      io.err(`unknown command "${picked.unknown}"; run \`manchete help\``);
      return 1;
    }
    const { spec, rest } = picked;
    const { help, values, positionals } = parseCommandArgs(spec, rest);
    if (help) {
      io.out(spec.name === 'help' ? mainHelp() : commandHelp(spec));
      return 0;
    }
    return await spec.run(values, positionals, io);
  } catch (err) {
    if (err instanceof UsageError) {
      const { spec } = (() => {
        const p = pickCommand(argv);
        return 'spec' in p ? p : { spec: null };
      })();
      io.err(`${err.message}; run \`manchete ${spec && spec.name !== 'help' ? `${spec.name} --help` : 'help'}\``);
    } else if (err instanceof Error && err.name === 'ConfigError') io.err(err.message);
    else io.err(oneLine(err));
    return 1;
  }
}

const oneLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

async function quietLogger(config: Config): Promise<Logger> {
  const { createLogger, resolveLogFormat } = await import('./log.js');
  return createLogger(
    {
      level: config.logLevel === 'info' ? 'warn' : config.logLevel,
      secrets: secretsOf(config),
      format: resolveLogFormat(config.logFormat, process.stderr.isTTY === true),
      colorize: process.stderr.isTTY === true,
    },
    process.stderr as never,
  );
}

export function secretsOf(config: Config): string[] {
  return [config.telegram.token, config.telegram.webhookSecret, config.publish.secret, config.desk.password].filter((s): s is string => !!s);
}

async function loadConfigFrom(io: CliIo): Promise<Config> {
  const { loadConfig } = await import('./config.js');
  return loadConfig(io.env);
}

async function cmdPreview(v: Values, input: string, io: CliIo): Promise<number> {
  const json = v.json === true;
  const platformArg = str(v, 'platform', 'both');
  const limitArg = str(v, 'limit', '5');
  if (!['telegram', 'whatsapp', 'both'].includes(platformArg)) throw new UsageError(`--platform is telegram, whatsapp or both, not "${platformArg}"`);
  const limit = Number(limitArg);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit is a whole number from 1, not "${limitArg}"`);
  const config = await loadConfigFrom(io);
  const platforms: Platform[] = platformArg === 'both' ? ['telegram', 'whatsapp'] : [platformArg as Platform];
  const { rendererFor } = await import('./render/renderer.js');
  const { preview, previewDestinations, previewJson, previewText } = await import('./delivery/preview.js');
  const renderer = rendererFor(config);
  // The same routes file settings as posting: the feed's section default and boilerplate, the destinations' options.
  const routes = await readRoutes(config);
  const items = await preview(input, {
    renderer,
    platforms,
    limit,
    summaryMaxChars: config.summaryMaxChars,
    itemHtmlMaxBytes: config.itemHtmlMaxBytes,
    fetch: config.fetch,
    feedSettings: new Map(routes.feeds.map((f) => [f.url, f])),
    destinations: previewDestinations({ telegram: config.telegram.chats, whatsapp: config.whatsapp.chats }, routes.destinations),
    explain: v.explain === true,
  });
  if (items.length === 0) {
    io.err(`${input} has no articles`);
    return 0;
  }
  for (const item of items) io.out(json ? previewJson(item) : previewText(item));
  return 0;
}

async function cmdStart(io: CliIo): Promise<number> {
  const config = await loadConfigFrom(io);
  const { createLogger, resolveLogFormat } = await import('./log.js');
  const tty = process.stdout.isTTY === true;
  const logger = createLogger({ level: config.logLevel, secrets: secretsOf(config), format: resolveLogFormat(config.logFormat, tty), colorize: tty });
  const { startApp } = await import('./main.js');
  const { createPlatformModules } = await import('./platforms/index.js');
  const routes = await readRoutes(config);
  const platforms = await createPlatformModules(config, logger, routes);
  const app = await startApp({ config, logger, platforms, routes, print: io.out });
  await new Promise<void>((resolveStop) => {
    const onSignal = (sig: NodeJS.Signals) => {
      logger.info({ event: 'app.signal', signal: sig }, `${sig} received`);
      const hard = setTimeout(() => {
        logger.error({ event: 'app.forced_exit' }, 'shutdown took too long; exiting');
        process.exit(1);
      }, config.shutdownGraceMs + 10_000);
      hard.unref();
      void app.stop().then(resolveStop);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  return 0;
}

async function readRoutes(config: Config) {
  const { EMPTY_ROUTES, loadRoutesFile } = await import('./delivery/routes-file.js');
  return config.routesFile ? loadRoutesFile(config.routesFile) : EMPTY_ROUTES;
}

/** Opens the store and the feed administration for one `feeds` subcommand, and closes the store after. */
async function withFeedAdmin<T>(io: CliIo, fn: (admin: import('./delivery/managed-feeds.js').FeedAdmin, config: Config) => Promise<T>, actor = cliActor(io)): Promise<T> {
  const config = await loadConfigFrom(io);
  const routes = await readRoutes(config);
  const { openStore } = await import('./store/db.js');
  const { FeedRepo } = await import('./store/feeds.js');
  const { FeedAdmin } = await import('./delivery/managed-feeds.js');
  const store = await openStore(config.databaseUrl);
  try {
    const admin = new FeedAdmin({
      repo: new FeedRepo(store.db),
      feedUrls: config.feeds,
      routeFeeds: routes.feeds,
      check: { fetch: config.fetch, summaryMaxChars: config.summaryMaxChars, itemHtmlMaxBytes: config.itemHtmlMaxBytes },
      actor,
    });
    return await fn(admin, config);
  } finally {
    await store.close();
  }
}

/** Who runs the command, for the feeds' `added_by`: `cli (ana)`. */
const cliActor = (io: CliIo) => `cli (${io.env.USER ?? io.env.LOGNAME ?? io.env.USERNAME ?? 'unknown user'})`;

async function cmdFeedsList(v: Values, io: CliIo): Promise<number> {
  const { compactDuration } = await import('./delivery/managed-feeds.js');
  return withFeedAdmin(io, async (admin, config) => {
    const feeds = await admin.list();
    for (const f of feeds) {
      const every = f.intervalMs !== null ? compactDuration(f.intervalMs) : null;
      if (v.json === true) {
        io.out(
          JSON.stringify({
            url: f.url,
            origin: f.origin,
            title: f.title,
            section: f.section,
            interval: every,
            addedBy: f.addedBy,
            addedAt: f.addedAt,
            lastPolledAt: f.state?.last_polled_at ?? null,
            lastOkAt: f.state?.last_ok_at ?? null,
            failures: f.state?.failures ?? 0,
            lastError: f.state?.last_error ?? null,
            nextPollAt: f.state?.next_poll_at ?? null,
            movedTo: f.state?.final_url ?? null,
          }),
        );
        continue;
      }
      const origin = f.origin === 'configuration' ? 'from configuration' : `added${f.addedBy ? ` by ${f.addedBy}` : ''}${f.addedAt ? ` at ${f.addedAt}` : ''}`;
      const st = f.state;
      io.out(
        [
          `${f.url}${f.title ? ` (${f.title})` : ''}`,
          `  ${origin}; section: ${f.section ?? '(from the items)'}; every ${every ?? `${compactDuration(config.pollIntervalMs)} (POLL_INTERVAL)`}`,
          st
            ? `  last ok: ${st.last_ok_at ?? 'never'}; failures: ${st.failures}; next poll: ${st.next_poll_at ?? 'at the next tick'}${st.final_url ? `; moved to ${st.final_url}` : ''}`
            : '  not polled yet: polled at the next tick of a running Manchete',
          ...(st?.last_error ? [`  last error: ${st.last_error}`] : []),
        ].join('\n'),
      );
    }
    if (v.json !== true) {
      const managed = feeds.filter((f) => f.origin === 'managed').length;
      io.out(`${feeds.length} feeds: ${feeds.length - managed} from configuration, ${managed} added at run time`);
    }
    return 0;
  });
}

async function cmdFeedsAdd(v: Values, url: string, io: CliIo): Promise<number> {
  const { parseInterval } = await import('./delivery/managed-feeds.js');
  const intervalArg = optStr(v, 'interval');
  const interval = intervalArg === undefined ? null : parseInterval(intervalArg);
  if (typeof interval === 'string') throw new UsageError(`--interval: ${interval}`);
  const section = optStr(v, 'section')?.trim() || null;
  return withFeedAdmin(io, async (admin) => {
    const r = await admin.add(url, { section, intervalMs: interval });
    if (r.status === 'configured') {
      io.err(`${url} is already polled from configuration (FEED_URLS or the routes file); change its settings there`);
      return 1;
    }
    if (r.status === 'failed') {
      io.err(`${url} was not added: ${r.check.reason}`);
      return 1;
    }
    const c = r.check;
    io.out(`${url} works: ${c.title ? `"${c.title}", ` : ''}${c.items} items${c.finalUrl !== url ? ` (read from ${c.finalUrl})` : ''}. The first ones:`);
    for (const a of c.sample) io.out(`  · ${a.title}${a.section ? ` [${a.section}]` : ''}${a.publishedAt ? ` (${a.publishedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC)` : ''}`);
    const how = [section ? `section ${section}` : null, intervalArg ? `every ${intervalArg}` : null].filter(Boolean).join(', ');
    io.out(
      `${r.status === 'added' ? 'added' : 'updated'} ${url}${how ? ` (${how})` : ''}; a running Manchete polls it at its next tick (its current items are recorded, not posted; new ones are posted)`,
    );
    return 0;
  });
}

async function cmdFeedsRemove(url: string, io: CliIo): Promise<number> {
  return withFeedAdmin(io, async (admin, config) => {
    const r = await admin.remove(url);
    if (r === 'configured') {
      io.err(`${url} is from configuration and cannot be removed here; take it out of ${config.feeds.includes(url) ? 'FEED_URLS' : `the routes file (${config.routesFile})`} and restart`);
      return 1;
    }
    if (r === 'unknown') {
      io.err(`${url} is not a feed added at run time; \`manchete feeds list\` shows the feeds`);
      return 1;
    }
    io.out(`removed ${url}; a running Manchete stops polling it at its next tick (its articles stay)`);
    return 0;
  });
}

async function cmdFeedsImport(v: Values, file: string, io: CliIo): Promise<number> {
  const limit = (name: string): number | undefined => {
    const raw = optStr(v, name);
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1 || n > 256) throw new UsageError(`--${name} is a whole number from 1 to 256, not "${raw}"`);
    return n;
  };
  const concurrency = limit('concurrency');
  const perHost = limit('per-host');
  const { readFile } = await import('node:fs/promises');
  const { basename } = await import('node:path');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`${file} cannot be read: ${(err as Error).message}`);
  }
  const { OpmlError } = await import('./sources/opml.js');
  return withFeedAdmin(
    io,
    async (admin, config) => {
      let bar: import('cli-progress').SingleBar | null = null;
      const started = Date.now();
      let summary;
      try {
        summary = await admin.importOpml(text, {
          concurrency: concurrency ?? config.feedsImport.concurrency,
          perHost: perHost ?? config.feedsImport.perHost,
          onStart: async (total) => {
            if (!io.tty || total === 0) return;
            const { SingleBar, Presets } = await import('cli-progress');
            bar = new SingleBar({ format: 'checking feeds [{bar}] {value}/{total} · {failed} failed · {eta_formatted} left', hideCursor: true, stream: io.progress ?? process.stdout }, Presets.shades_classic);
            bar.start(total, 0, { failed: 0 });
          },
          onProgress: (() => {
            let failed = 0;
            return (p) => {
              if (!p.ok) failed++;
              if (bar) bar.update(p.done, { failed });
              else if (!io.tty) io.out(`[${p.done}/${p.total}] ${p.ok ? 'ok' : 'failed'} ${p.url}`);
            };
          })(),
        });
      } catch (err) {
        if (err instanceof OpmlError) throw new Error(`${file}: ${err.message}`);
        throw err;
      } finally {
        (bar as import('cli-progress').SingleBar | null)?.stop();
      }
      const secs = ((Date.now() - started) / 1000).toFixed(1);
      io.out(
        `${file}: ${summary.total} feeds in ${secs} s: ${summary.added.length} added, ${summary.already.length} already polled, ${summary.failed.length} failed${summary.failed.length ? ':' : ''}`,
      );
      for (const f of summary.failed) io.out(`  ${f.url}: ${f.reason}`);
      if (summary.added.length) io.out('a running Manchete polls the added feeds at its next tick');
      return summary.failed.length ? 1 : 0;
    },
    `opml ${basename(file)} (${io.env.USER ?? io.env.LOGNAME ?? io.env.USERNAME ?? 'unknown user'})`,
  );
}

async function cmdFeedsExport(io: CliIo): Promise<number> {
  return withFeedAdmin(io, async (admin) => {
    const { opml, skipped } = await admin.exportOpml();
    io.out(opml.replace(/\n$/, ''));
    if (skipped.length) io.err(`left out of the OPML (local files, not web feeds): ${skipped.join(', ')}`);
    return 0;
  });
}

async function cmdStatus(all: boolean, io: CliIo): Promise<number> {
  const config = await loadConfigFrom(io);
  const { openStore } = await import('./store/db.js');
  const { listInstances } = await import('./store/instances.js');
  const { readInstanceLock } = await import('./store/instance-lock.js');
  const store = await openStore(config.databaseUrl);
  try {
    const now = new Date();
    if (store.dialect === 'sqlite') {
      // SQLite serves one process: the instance lock names it.
      const h = await readInstanceLock(store.db);
      if (!h || h.expiresAt <= now) io.out('No instance is running on this database (SQLite: one process at a time).');
      else io.out(`1 instance (SQLite: one process at a time)\n${h.holder}  pid ${h.pid} on ${h.host}  since ${h.startedAt.toISOString()}  last heartbeat ${h.heartbeatAt.toISOString()} (${ago(now, h.heartbeatAt)})`);
      return 0;
    }
    const rows = (await listInstances(store.db, now)).filter((r) => all || r.alive);
    const alive = rows.filter((r) => r.alive).length;
    io.out(`${alive} instance${alive === 1 ? '' : 's'} alive on this database (lease ${Math.round(config.instanceLeaseMs / 1000)} s)`);
    for (const r of rows) {
      const holds: string[] = [];
      if (r.holds.updates) holds.push('Telegram updates (long polling)');
      if (r.holds.whatsapp?.length) holds.push(`WhatsApp session ${r.holds.whatsapp.join(', ')}`);
      if (r.holds.chats) holds.push(`${r.holds.chats} chat${r.holds.chats === 1 ? '' : 's'}`);
      if (r.holds.feeds?.length) holds.push(`polling ${r.holds.feeds.join(', ')}`);
      io.out(
        [
          `${r.id}${r.alive ? '' : '  (dead: no heartbeat)'}`,
          `  pid ${r.pid} on ${r.host}; started ${r.startedAt.toISOString()}; last heartbeat ${r.heartbeatAt.toISOString()} (${ago(now, r.heartbeatAt)})`,
          `  holds: ${holds.length ? holds.join('; ') : 'nothing right now'}`,
        ].join('\n'),
      );
    }
  } finally {
    await store.close();
  }
  return 0;
}

function ago(now: Date, then: Date): string {
  const s = Math.max(0, Math.round((now.getTime() - then.getTime()) / 1000));
  return s < 120 ? `${s} s ago` : `${Math.round(s / 60)} min ago`;
}

async function cmdRequeue(sinceArg: string, io: CliIo): Promise<number> {
  const { parseDuration } = await import('./config.js');
  const ms = parseDuration(sinceArg);
  if (ms === null) throw new UsageError(`--since is a duration such as 2h or 30m, not "${sinceArg}"`);
  const config = await loadConfigFrom(io);
  const { openStore } = await import('./store/db.js');
  const { Outbox } = await import('./delivery/outbox.js');
  const store = await openStore(config.databaseUrl);
  try {
    const n = await new Outbox(store.db).requeueFailed(new Date(Date.now() - ms));
    io.out(`${n} failed deliveries from the last ${sinceArg} are queued again; the running Manchete sends them within seconds`);
  } finally {
    await store.close();
  }
  return 0;
}

async function cmdDoctor(io: CliIo): Promise<number> {
  const config = await loadConfigFrom(io);
  io.out('configuration: ok');
  const { rendererFor } = await import('./render/renderer.js');
  const renderer = rendererFor(config);
  renderer.preload();
  io.out(`templates (${config.templatesDir}): ok`);
  const { openStore, redactDatabaseUrl } = await import('./store/db.js');
  const store = await openStore(config.databaseUrl);
  await store.close();
  io.out(`database (${redactDatabaseUrl(config.databaseUrl)}): ok, migrations applied`);
  const logger = await quietLogger(config);
  const { createPlatformModules } = await import('./platforms/index.js');
  const modules = await createPlatformModules(config, logger, await readRoutes(config));
  if (modules.length === 0) io.out('platforms: none configured (preview mode)');
  let ok = true;
  for (const m of modules) {
    if (m.platform === 'whatsapp') {
      io.out('whatsapp: destinations are checked once connected (`npm start`)');
      continue;
    }
    for (const d of m.destinations) {
      const c = await m.sender.check(d);
      ok &&= c.ok;
      io.out(`${d.chatId}${d.threadId ? `:${d.threadId}` : ''}: ${c.message}`);
    }
  }
  return ok ? 0 : 1;
}

async function cmdPush(url: string, destinations: string[], io: CliIo): Promise<number> {
  if (!/^https?:\/\//.test(url)) throw new UsageError('push needs an http(s) article URL');
  const config = await loadConfigFrom(io);
  const { pushFromCli } = await import('./delivery/push.js');
  const res = await pushFromCli(config, url, destinations, await quietLogger(config));
  io.out(res);
  return 0;
}

async function cmdHashPassword(v: Values, io: CliIo): Promise<number> {
  const user = str(v, 'user', 'admin');
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(user)) throw new UsageError(`--user is letters, digits, . _ - (1–64), not "${user}"`);
  const rounds = Number(str(v, 'rounds', '12'));
  if (!Number.isInteger(rounds) || rounds < 10 || rounds > 15) throw new UsageError('--rounds is a whole number from 10 to 15');
  const read = io.stdin ?? (async () => {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  });
  const password = (await read()).replace(/\r?\n$/, '');
  if (password.length < 8) throw new UsageError('the password (on standard input) needs at least 8 characters');
  const { hashPassword } = await import('./desk/auth.js');
  io.out(`${user}:${hashPassword(password, rounds)}`);
  return 0;
}

async function cmdWhatsAppLogin(v: Values, io: CliIo): Promise<number> {
  const phone = optStr(v, 'phone');
  if (phone !== undefined && !/^\+?\d{10,15}$/.test(phone)) throw new UsageError(`--phone is the number with country code, digits only (5511999998888), not "${phone}"`);
  const config = await loadConfigFrom(io);
  const { whatsappLogin } = await import('./platforms/whatsapp/module.js');
  await whatsappLogin(config, await quietLogger(config), { phone: phone?.replace(/^\+/, ''), print: io.out, force: v.force === true });
  return 0;
}

// Run when executed directly (npm start, bin/manchete.js), not when imported by tests.
const invoked = process.argv[1] ?? '';
if (/cli\.(ts|js)$/.test(invoked)) {
  const code = await runCli(process.argv.slice(2), {
    out: (s) => process.stdout.write(`${s}\n`),
    err: (s) => process.stderr.write(`manchete: ${s}\n`),
    env: process.env,
    tty: process.stdout.isTTY === true,
  });
  process.exitCode = code;
}
