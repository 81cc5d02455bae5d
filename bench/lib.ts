import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * A sibling bench file and the node arguments to run it: the compiled `.js` when this runs from `dist/`
 * (what `npm run bench` does, so figures are not inflated by the TypeScript loader), else the `.ts` via tsx.
 */
function script(name: string): string[] {
  const compiled = import.meta.url.endsWith('.js');
  const file = fileURLToPath(new URL(`./${name}.${compiled ? 'js' : 'ts'}`, import.meta.url));
  return compiled ? [file] : ['--import', 'tsx', file];
}
import { createInterface } from 'node:readline';

/**
 * This process's peak RSS, in MB, as the kernel keeps it (getrusage's maxrss: every page ever resident,
 * not a sample). Sampling `memoryUsage.rss()` every 20 ms instead cost the measured process about 1 ms a
 * call here (reading /proc while the GC maps memory), 4 % of a short fan-out, and could miss a spike.
 */
export function peakRssMb(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * Starts the fake Bot API in a child process; returns its apiRoot, a stats query and a stop. `warm`: the
 * fake first answers that many requests of its own (see fake-telegram-process.ts); BENCH_COLD_FAKE=1 skips it.
 */
export async function fakeTelegramProcess(opts: { limits: boolean; warm?: number }) {
  const warm = process.env.BENCH_COLD_FAKE === '1' ? 0 : (opts.warm ?? 0);
  const args = [...(opts.limits ? [] : ['--no-limits']), ...(warm > 0 ? ['--warm', String(warm)] : [])];
  const child = spawn(process.execPath, [...script('fake-telegram-process'), ...args], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const queue: ((l: string) => void)[] = [];
  lines.on('line', (l) => queue.shift()?.(l));
  const next = () => new Promise<string>((r) => queue.push(r));
  const { apiRoot } = JSON.parse(await next()) as { apiRoot: string };
  return {
    apiRoot,
    async stats() {
      const p = next();
      child.stdin!.write('stats\n');
      return JSON.parse(await p) as { sent: number; tooMany: number; paid: number; requests: number; firstAt: number; lastAt: number };
    },
    stop: () => {
      child.stdin!.end();
      return new Promise<void>((r) => child.on('exit', () => r()));
    },
  };
}

/** Runs a bench scenario file in a fresh process (clean memory figures) and returns its JSON result. */
export function runScenario(name: string, args: string[] = []): Promise<Record<string, unknown>> {
  const file = name;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', ...script(name), ...args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`${file} exited with ${code}: ${out.slice(-500)}`));
      try {
        resolve(JSON.parse(last) as Record<string, unknown>);
      } catch {
        reject(new Error(`${file} printed no JSON result: ${out.slice(-500)}`));
      }
    });
  });
}

/**
 * Idle memory of `npm start`: starts the CLI (compiled when this runs from dist/) in preview mode, with its
 * own temporary SQLite file and HTTP_PORT=0, waits for `ready` in its output ("Watching for new articles"
 * in preview mode; with a platform configured there is no preview, so the caller names a log line) and `settleMs` more,
 * and reads VmRSS from /proc/<pid>/status (Linux). `env` adds settings, e.g. WHATSAPP_ENABLED=true; the
 * process runs with bench/loopback-only preloaded, so an enabled WhatsApp cannot reach its servers.
 */
/**
 * RSS of `manchete start` after it is ready: `early` a few seconds in (V8's young generation is still at the
 * size startup grew it to) and `settled` once it has idled long enough for V8 to shrink it again (about 15 s
 * of no work here). Idle means the second; both are printed.
 */
export async function idleRss(env: Record<string, string>, ready = 'Watching for new articles', earlyMs = 5_000, settledMs = 30_000): Promise<{ early: number; settled: number }> {
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { packageRoot } = await import('../src/paths.js');
  const compiled = import.meta.url.endsWith('.js');
  const root = packageRoot(import.meta.url);
  const cli = compiled ? join(root, 'dist', 'src', 'cli.js') : join(root, 'src', 'cli.ts');
  const guard = fileURLToPath(new URL(`./loopback-only.${compiled ? 'js' : 'ts'}`, import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'manchete-idle-'));
  const child = spawn(process.execPath, [...(compiled ? [] : ['--import', 'tsx']), '--import', guard, cli, 'start'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: dir, DATABASE_URL: `sqlite:${join(dir, 'm.db')}`, HTTP_PORT: '0', LOG_FORMAT: 'json', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`manchete start did not print "${ready}" in 60 s: ${out.slice(-500)}`)), 60_000);
      const onData = (d: Buffer) => {
        out += d.toString();
        if (out.includes(ready)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
      child.on('exit', (code) => reject(new Error(`manchete start exited with ${code} before idling: ${out.slice(-500)}`)));
    });
    const rssMb = () => {
      const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1];
      if (!kb) throw new Error(`no VmRSS in /proc/${child.pid}/status`);
      return Number(kb) / 1024;
    };
    await new Promise((r) => setTimeout(r, earlyMs));
    const early = rssMb();
    await new Promise((r) => setTimeout(r, settledMs - earlyMs));
    return { early, settled: rssMb() };
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    rmSync(dir, { recursive: true, force: true });
  }
}
