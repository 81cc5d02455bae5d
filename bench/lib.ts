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

/** Samples this process's RSS every few milliseconds; `peak()` is the highest seen, in MB. */
export function rssSampler(everyMs = 20) {
  let peak = process.memoryUsage().rss;
  const t = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), everyMs);
  t.unref();
  return {
    peak: () => Math.max(peak, process.memoryUsage().rss) / 1024 / 1024,
    stop: () => clearInterval(t),
  };
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Starts the fake Bot API in a child process; returns its apiRoot, a stats query and a stop. */
export async function fakeTelegramProcess(opts: { limits: boolean }) {
  const child = spawn(process.execPath, [...script('fake-telegram-process'), ...(opts.limits ? [] : ['--no-limits'])], {
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
      return JSON.parse(await p) as { sent: number; tooMany: number; requests: number; firstAt: number; lastAt: number };
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
