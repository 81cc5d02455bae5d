import { resolve } from 'node:path';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger, type Logger } from './log.js';
import { rendererFor } from './render/renderer.js';
import { preview, previewDestinations, previewJson, previewText } from './delivery/preview.js';
import type { Platform } from './render/types.js';

/**
 * `manchete <command>`: the operator's entry point. Every command reads the same configuration
 * (environment + `.env`), and every failure ends with one line saying what went wrong and exit code 1.
 */

const HELP = `Usage: manchete <command> [options]

Commands:
  start                         Poll the feeds and post new articles (the default; \`npm start\`).
  preview <feed|file|page-url>  Print what each platform would receive, without sending or writing anything.
      --platform telegram|whatsapp|both   (default both)
      --limit N                           articles to show (default 5)
      --json                              one JSON object per article, one per line
  push <url> [destination...]   Queue an article page for the configured destinations ahead of everything else.
  whatsapp login [--phone 55…]  Pair the WhatsApp account: a QR code, or a pairing code with --phone.
  feeds                         List the feeds with their polling state.
  requeue [--since 24h]         Send again the deliveries that failed (after an outage) in that time.
  doctor                        Check the configuration, the templates, the database and the destinations.
  help                          This text.

Settings come from the environment and .env; see .env.example.`;

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  env: Record<string, string | undefined>;
}

function takeFlag(args: string[], name: string): boolean {
  const i = args.indexOf(name);
  if (i < 0) return false;
  args.splice(i, 1);
  return true;
}

function takeOption(args: string[], name: string): string | undefined {
  const i = args.findIndex((a) => a === name || a.startsWith(`${name}=`));
  if (i < 0) return undefined;
  const a = args[i]!;
  if (a.includes('=')) {
    args.splice(i, 1);
    return a.slice(name.length + 1);
  }
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) throw new UsageError(`${name} needs a value`);
  args.splice(i, 2);
  return v;
}

class UsageError extends Error {}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const args = [...argv];
  const command = args.shift() ?? 'start';
  try {
    switch (command) {
      case 'help':
      case '--help':
      case '-h':
        io.out(HELP);
        return 0;
      case 'preview':
        return await cmdPreview(args, io);
      case 'start':
        return await cmdStart(io);
      case 'feeds':
        return await cmdFeeds(io);
      case 'doctor':
        return await cmdDoctor(io);
      case 'requeue':
        return await cmdRequeue(args, io);
      case 'push':
        return await cmdPush(args, io);
      case 'whatsapp':
        return await cmdWhatsApp(args, io);
      default:
        io.err(`unknown command "${command}"; run \`manchete help\``);
        return 1;
    }
  } catch (err) {
    if (err instanceof ConfigError) io.err(err.message);
    else if (err instanceof UsageError) io.err(`${err.message}; run \`manchete help\``);
    else io.err(oneLine(err));
    return 1;
  }
}

const oneLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

function quietLogger(config: Config): Logger {
  return createLogger({ level: config.logLevel === 'info' ? 'warn' : config.logLevel, secrets: secretsOf(config) }, process.stderr as never);
}

export function secretsOf(config: Config): string[] {
  return [config.telegram.token, config.telegram.webhookSecret].filter((s): s is string => !!s);
}

async function cmdPreview(args: string[], io: CliIo): Promise<number> {
  const json = takeFlag(args, '--json');
  const platformArg = takeOption(args, '--platform') ?? 'both';
  const limitArg = takeOption(args, '--limit') ?? '5';
  const input = args.shift();
  if (!input) throw new UsageError('preview needs a feed URL, a file or an article URL');
  if (args.length) throw new UsageError(`unexpected argument "${args[0]}"`);
  if (!['telegram', 'whatsapp', 'both'].includes(platformArg)) throw new UsageError(`--platform is telegram, whatsapp or both, not "${platformArg}"`);
  const limit = Number(limitArg);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit is a whole number from 1, not "${limitArg}"`);
  const config = loadConfig(io.env);
  const platforms: Platform[] = platformArg === 'both' ? ['telegram', 'whatsapp'] : [platformArg as Platform];
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
  });
  if (items.length === 0) {
    io.err(`${input} has no articles`);
    return json ? 0 : 0;
  }
  for (const item of items) io.out(json ? previewJson(item) : previewText(item));
  return 0;
}

async function cmdStart(io: CliIo): Promise<number> {
  const config = loadConfig(io.env);
  const logger = createLogger({ level: config.logLevel, secrets: secretsOf(config), pretty: config.logFormat === 'pretty' });
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

async function cmdFeeds(io: CliIo): Promise<number> {
  const config = loadConfig(io.env);
  const { openStore } = await import('./store/db.js');
  const { FeedRepo } = await import('./store/feeds.js');
  const store = await openStore(config.databaseUrl);
  try {
    const rows = await new FeedRepo(store.db).list();
    if (rows.length === 0) io.out('No feed has been polled yet. Configured: ' + config.feeds.join(', '));
    for (const f of rows)
      io.out(
        [
          f.url,
          `  last poll: ${f.last_polled_at ?? 'never'}; last success: ${f.last_ok_at ?? 'never'}; next: ${f.next_poll_at ?? 'now'}`,
          `  failures: ${f.failures}${f.last_error ? ` (${f.last_error})` : ''}${f.final_url ? `; moved to ${f.final_url}` : ''}`,
        ].join('\n'),
      );
  } finally {
    await store.close();
  }
  return 0;
}

async function cmdRequeue(args: string[], io: CliIo): Promise<number> {
  const sinceArg = takeOption(args, '--since') ?? '24h';
  if (args.length) throw new UsageError(`unexpected argument "${args[0]}"`);
  const { parseDuration } = await import('./config.js');
  const ms = parseDuration(sinceArg);
  if (ms === null) throw new UsageError(`--since is a duration such as 2h or 30m, not "${sinceArg}"`);
  const config = loadConfig(io.env);
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
  const config = loadConfig(io.env);
  io.out('configuration: ok');
  const renderer = rendererFor(config);
  renderer.preload();
  io.out(`templates (${config.templatesDir}): ok`);
  const { openStore, redactDatabaseUrl } = await import('./store/db.js');
  const store = await openStore(config.databaseUrl);
  await store.close();
  io.out(`database (${redactDatabaseUrl(config.databaseUrl)}): ok, migrations applied`);
  const logger = quietLogger(config);
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

async function cmdPush(args: string[], io: CliIo): Promise<number> {
  const url = args.shift();
  if (!url || !/^https?:\/\//.test(url)) throw new UsageError('push needs an http(s) article URL');
  const config = loadConfig(io.env);
  const { pushFromCli } = await import('./delivery/push.js');
  const res = await pushFromCli(config, url, args, quietLogger(config));
  io.out(res);
  return 0;
}

async function cmdWhatsApp(args: string[], io: CliIo): Promise<number> {
  const sub = args.shift();
  if (sub !== 'login') throw new UsageError('whatsapp takes one subcommand: login');
  const phone = takeOption(args, '--phone');
  if (phone !== undefined && !/^\+?\d{10,15}$/.test(phone)) throw new UsageError(`--phone is the number with country code, digits only (5511999998888), not "${phone}"`);
  const config = loadConfig(io.env);
  const { whatsappLogin } = await import('./platforms/whatsapp/module.js');
  await whatsappLogin(config, quietLogger(config), { phone: phone?.replace(/^\+/, ''), print: io.out });
  return 0;
}

// Run when executed directly (npm start, bin/manchete.js), not when imported by tests.
const invoked = process.argv[1] ?? '';
if (/cli\.(ts|js)$/.test(invoked)) {
  const code = await runCli(process.argv.slice(2), {
    out: (s) => process.stdout.write(`${s}\n`),
    err: (s) => process.stderr.write(`manchete: ${s}\n`),
    env: process.env,
  });
  process.exitCode = code;
}
