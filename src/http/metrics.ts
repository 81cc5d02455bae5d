import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * `/metrics` through prom-client, one registry per app (never prom-client's global one, so tests that run
 * several apps in one process do not share counters): the default process metrics (CPU, memory, event
 * loop lag, GC), the figures the program computes on each scrape (`computed`: outbox counts, breakers,
 * feed failures, the dispatcher's counters; names kept from the hand-written text that came before), and
 * two histograms observed where the work finishes: send latency per platform and poll duration per feed.
 */

/** Metric values the program computes on each scrape (the outbox counts, the breakers, the feeds). */
export interface Metric {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  values: { labels?: Record<string, string>; value: number }[];
}

export interface MetricsRegistryOptions {
  /** Computed on each scrape (delivery/status.ts metrics). */
  computed?: () => Promise<Metric[]>;
  /** Default process metrics (on unless a test turns them off). */
  defaults?: boolean;
}

export class MetricsRegistry {
  readonly registry = new Registry();
  readonly sendSeconds: Histogram<'platform' | 'outcome'>;
  readonly pollSeconds: Histogram<'feed' | 'status'>;
  private readonly computedMetrics = new Map<string, Gauge | Counter>();

  constructor(private readonly opts: MetricsRegistryOptions = {}) {
    if (opts.defaults !== false) collectDefaultMetrics({ register: this.registry });
    this.sendSeconds = new Histogram({
      name: 'manchete_send_duration_seconds',
      help: 'Time one platform send call took, by platform and outcome (ok or error).',
      labelNames: ['platform', 'outcome'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
      registers: [this.registry],
    });
    this.pollSeconds = new Histogram({
      name: 'manchete_poll_duration_seconds',
      help: 'Time one feed poll took (fetch, parse, record), by feed and result.',
      labelNames: ['feed', 'status'],
      buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers: [this.registry],
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text: computed figures refreshed first, then every metric of this registry. */
  async text(): Promise<string> {
    if (this.opts.computed) this.load(await this.opts.computed());
    return this.registry.metrics();
  }

  /** Writes computed values into this registry's gauges and counters (created on first sight). */
  private load(metrics: Metric[]): void {
    const seen = new Set<string>();
    for (const m of metrics) {
      seen.add(m.name);
      const labelNames = [...new Set(m.values.flatMap((v) => Object.keys(v.labels ?? {})))];
      let metric = this.computedMetrics.get(m.name);
      if (!metric) {
        const config = { name: m.name, help: m.help, labelNames, registers: [this.registry] };
        metric = m.type === 'counter' ? new Counter(config) : new Gauge(config);
        this.computedMetrics.set(m.name, metric);
      }
      metric.reset();
      for (const v of m.values) {
        const value = Number.isFinite(v.value) ? v.value : 0;
        if (metric instanceof Counter) metric.inc(v.labels ?? {}, Math.max(0, value));
        else metric.set(v.labels ?? {}, value);
      }
    }
    // A figure absent from this scrape (the store is down) shows no stale value.
    for (const [name, metric] of this.computedMetrics) if (!seen.has(name)) metric.reset();
  }
}

/** A send call timed into the histogram: wraps a sender's `send` without touching the dispatcher. */
export function timeSends<S extends { platform: string; send: (...args: never[]) => Promise<unknown> }>(sender: S, metrics: MetricsRegistry): S {
  const send = sender.send.bind(sender) as S['send'];
  const timed = async (...args: Parameters<S['send']>) => {
    const end = metrics.sendSeconds.startTimer({ platform: sender.platform });
    try {
      const result = await send(...args);
      end({ outcome: 'ok' });
      return result;
    } catch (err) {
      end({ outcome: 'error' });
      throw err;
    }
  };
  return new Proxy(sender, {
    get: (target, prop) => {
      if (prop === 'send') return timed;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
