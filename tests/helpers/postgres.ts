import { execFile, execFileSync, spawn } from 'node:child_process';
import { accessSync, chownSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

/**
 * A throwaway PostgreSQL cluster for tests: initdb in a temporary folder, a server on 127.0.0.1 at a free
 * port (its socket in the same folder), trust authentication for the user `manchete`, fsync off. Nothing is
 * installed or left behind: `stop()` (call it in afterAll) shuts the server down and removes the folder. If the
 * test process dies first (a crash, a worker killed by the runner), a small watchdog shell started with the
 * cluster notices that the process is gone and does the same.
 *
 * PostgreSQL refuses to run as root, so as root the binaries run as the `postgres` OS user through runuser;
 * as anyone else they run as that user.
 */

const run = promisify(execFile);

/** A running cluster. */
export interface PostgresCluster {
  /** `postgres://manchete@127.0.0.1:<port>/postgres`: the cluster's default database. */
  url: string;
  port: number;
  /** Creates an empty database and returns its URL (one per test file or group keeps them independent). */
  createDatabase(name: string): Promise<string>;
  /** Stops the server (fast shutdown: connections are cut) and keeps its data: a database going away mid-run. */
  pause(): Promise<void>;
  /** Starts the paused server again on the same port with the same data. */
  resume(): Promise<void>;
  /** Stops the server (immediate shutdown) and removes its folder. Safe to call twice. */
  stop(): Promise<void>;
}

interface Tools {
  bin: string;
  /** How to run a PostgreSQL binary: as root, through runuser as `postgres`. */
  asUser: { uid: number; gid: number } | null;
}

/** Where initdb and pg_ctl are: PATH first, then Debian's versioned folders (newest first). */
function findBinDir(): string | null {
  const candidates = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  try {
    const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
    for (const v of versions) candidates.push(`/usr/lib/postgresql/${v}/bin`);
  } catch {
    // No Debian layout: PATH only.
  }
  for (const dir of candidates) {
    try {
      accessSync(join(dir, 'initdb'), constants.X_OK);
      accessSync(join(dir, 'pg_ctl'), constants.X_OK);
      return dir;
    } catch {
      // Not here.
    }
  }
  return null;
}

function postgresUser(): { uid: number; gid: number } | null {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , uid, gid] = line.split(':');
      if (name === 'postgres' && uid && gid) return { uid: Number(uid), gid: Number(gid) };
    }
  } catch {
    // No passwd file: no such user.
  }
  return null;
}

function probe(): Tools | string {
  const bin = findBinDir();
  if (!bin) return 'initdb/pg_ctl not found (install postgresql, e.g. apt-get install postgresql-15)';
  const isRoot = process.getuid?.() === 0;
  if (!isRoot) return { bin, asUser: null };
  const user = postgresUser();
  if (!user) return 'running as root and there is no `postgres` OS user to run initdb as';
  if (!existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser') && !existsSync('/usr/bin/runuser'))
    return 'running as root and runuser is missing';
  return { bin, asUser: user };
}

const tools = probe();

/** Why PostgreSQL tests cannot run here, or null when they can. Use it with `describe.skipIf`. */
export const postgresUnavailable: string | null = typeof tools === 'string' ? tools : null;

function command(t: Tools, tool: string, args: string[]): [string, string[]] {
  const exe = join(t.bin, tool);
  return t.asUser ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
}

/** A TCP port nobody listens on right now (the kernel picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** Starts a fresh cluster. Throws (with initdb's or the server log's words) when it cannot. */
export async function startPostgres(): Promise<PostgresCluster> {
  if (typeof tools === 'string') throw new Error(`cannot start PostgreSQL: ${tools}`);
  const t = tools;
  // Short path: the server's unix socket lives here and socket paths are limited to ~100 bytes.
  const dir = mkdtempSync(join(tmpdir(), 'manchete-pg-'));
  if (t.asUser) chownSync(dir, t.asUser.uid, t.asUser.gid);
  const data = join(dir, 'data');
  const log = join(dir, 'server.log');
  let started = false;
  let stopped = false;

  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', stopSync);
    if (started) {
      try {
        const [cmd, args] = command(t, 'pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
        execFileSync(cmd, args, { cwd: '/', stdio: 'ignore', timeout: 15_000 });
      } catch {
        killPostmaster(data);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('exit', stopSync);
  startWatchdog(t, dir, data);

  try {
    const [initCmd, initArgs] = command(t, 'initdb', [
      '-D', data, '-A', 'trust', '-U', 'manchete', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions',
    ]);
    await run(initCmd, initArgs, { cwd: dir, timeout: 30_000 });
    let lastError: unknown;
    // The port was free when asked; another process may take it before the server binds it: try again.
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await freePort();
      const opts = [
        `-p ${port}`, `-k ${dir}`, '-c listen_addresses=127.0.0.1',
        '-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off', '-c max_connections=40',
      ].join(' ');
      const [ctlCmd, ctlArgs] = command(t, 'pg_ctl', ['-D', data, '-l', log, '-o', opts, '-w', '-t', '20', 'start']);
      try {
        started = true;
        await run(ctlCmd, ctlArgs, { cwd: dir, timeout: 30_000 });
      } catch (err) {
        started = existsSync(join(data, 'postmaster.pid'));
        lastError = err;
        continue;
      }
      const url = `postgres://manchete@127.0.0.1:${port}/postgres`;
      return {
        url,
        port,
        async pause() {
          const [cmd, args] = command(t, 'pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '20', 'stop']);
          await run(cmd, args, { cwd: dir, timeout: 30_000 });
        },
        async resume() {
          await run(ctlCmd, ctlArgs, { cwd: dir, timeout: 30_000 });
        },
        async createDatabase(name: string) {
          if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name ${JSON.stringify(name)} is not a plain identifier`);
          const client = new pg.Client({ connectionString: url });
          await client.connect();
          try {
            await client.query(`create database ${name}`);
          } finally {
            await client.end();
          }
          return `postgres://manchete@127.0.0.1:${port}/${name}`;
        },
        async stop() {
          stopSync();
        },
      };
    }
    const serverLog = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '(no server log)';
    throw new Error(`PostgreSQL did not start: ${(lastError as Error)?.message}\n${serverLog}`);
  } catch (err) {
    stopSync();
    throw err;
  }
}

/**
 * A detached shell that waits while this process lives and the cluster folder exists. When the process
 * dies with the folder still there (no afterAll ran), it stops the server and removes the folder; after a
 * normal `stop()` the folder is gone and it exits within half a second.
 */
function startWatchdog(t: Tools, dir: string, data: string): void {
  const [cmd, args] = command(t, 'pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
  const script =
    'pid=$1; dir=$2; shift 2; ' +
    'while kill -0 "$pid" 2>/dev/null && [ -d "$dir" ]; do sleep 0.5; done; ' +
    'if [ -d "$dir" ]; then "$@" >/dev/null 2>&1; rm -rf "$dir"; fi';
  const child = spawn('sh', ['-c', script, 'pg-watchdog', String(process.pid), dir, cmd, ...args], {
    cwd: '/',
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
}

/** Last resort when pg_ctl cannot stop the server: signal the postmaster we started (its pid is in the data folder). */
function killPostmaster(data: string): void {
  try {
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (pid > 0) process.kill(pid, 'SIGQUIT');
  } catch {
    // Already gone.
  }
}
