/**
 * How many polls run at once: at most `overall` in all (POLL_CONCURRENCY) and at most `perHost` against
 * one host (POLL_CONCURRENCY_PER_HOST), so a site with a thousand feeds gets a few connections, never a
 * thousand, and a slow or hanging site holds only its own share of the slots.
 *
 * Waiting work is kept per host (first in, first out) and hosts take turns (round robin): a host with a
 * long queue does not delay the feeds of the others, and a task waiting for its host never holds one of
 * the overall slots.
 */

interface HostQueue {
  active: number;
  waiting: (() => void)[];
  /** Index of the next waiting task (the array is trimmed when it is drained). */
  head: number;
  /** Whether the host is in the turn ring. */
  ringed: boolean;
}

export interface LimiterStats {
  active: number;
  waiting: number;
  hosts: number;
}

export class HostLimiter {
  private active = 0;
  private waitingCount = 0;
  private readonly hosts = new Map<string, HostQueue>();
  /** Hosts with waiting work and a free host slot, in turn order. */
  private ring: string[] = [];
  private ringHead = 0;

  constructor(
    readonly overall: number,
    readonly perHost: number,
  ) {
    if (!(overall >= 1) || !(perHost >= 1)) throw new Error(`concurrency limits must be at least 1 (got ${overall} overall, ${perHost} per host)`);
  }

  get stats(): LimiterStats {
    return { active: this.active, waiting: this.waitingCount, hosts: this.hosts.size };
  }

  /** Runs `task` once a slot overall and a slot for `host` are free; resolves or rejects with it. */
  run<T>(host: string, task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const q = this.queue(host);
      q.waiting.push(() => {
        let p: Promise<T>;
        try {
          p = task();
        } catch (err) {
          p = Promise.reject(err);
        }
        p.then(resolve, reject).finally(() => this.done(host));
      });
      this.waitingCount++;
      this.offer(host, q);
      this.pump();
    });
  }

  private queue(host: string): HostQueue {
    let q = this.hosts.get(host);
    if (!q) {
      q = { active: 0, waiting: [], head: 0, ringed: false };
      this.hosts.set(host, q);
    }
    return q;
  }

  /** Puts the host in the turn ring when it has work and a free slot. */
  private offer(host: string, q: HostQueue): void {
    if (q.ringed || q.active >= this.perHost || q.head >= q.waiting.length) return;
    q.ringed = true;
    this.ring.push(host);
  }

  private pump(): void {
    while (this.active < this.overall && this.ringHead < this.ring.length) {
      const host = this.ring[this.ringHead++]!;
      if (this.ringHead > 1024 && this.ringHead * 2 > this.ring.length) {
        this.ring = this.ring.slice(this.ringHead);
        this.ringHead = 0;
      }
      const q = this.hosts.get(host)!;
      q.ringed = false;
      if (q.active >= this.perHost || q.head >= q.waiting.length) continue;
      const start = q.waiting[q.head]!;
      q.waiting[q.head++] = undefined as never;
      if (q.head === q.waiting.length) {
        q.waiting = [];
        q.head = 0;
      }
      q.active++;
      this.active++;
      this.waitingCount--;
      // Back of the ring: the other hosts get their turn first.
      this.offer(host, q);
      start();
    }
  }

  private done(host: string): void {
    const q = this.hosts.get(host)!;
    q.active--;
    this.active--;
    if (q.active === 0 && q.head >= q.waiting.length && !q.ringed) this.hosts.delete(host);
    else this.offer(host, q);
    this.pump();
  }
}

/** The key the per-host limit counts by: the URL's host name (any port), or `file` for local files. */
export function hostKey(url: string): string {
  const m = /^https?:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]*)/i.exec(url);
  return m ? m[1]!.toLowerCase() : 'file';
}
