import { describe, expect, it } from 'vitest';
import { startPollScheduler, tickSeconds } from '../../src/sources/scheduler.js';
import { memoryLogger } from '../platforms/telegram/helpers.js';

describe('poll scheduler', () => {
  it('ticks at a sixth of the poll interval, between 5 s and 60 s, on a divisor of 60', () => {
    expect(tickSeconds(10_000)).toBe(5);
    expect(tickSeconds(60_000)).toBe(10);
    expect(tickSeconds(120_000)).toBe(20);
    expect(tickSeconds(5 * 60_000)).toBe(30);
    expect(tickSeconds(3_600_000)).toBe(60);
    expect(tickSeconds(7 * 6000)).toBe(6);
  });

  it('a tick never overlaps the one in progress, and stop() waits for it to finish', async () => {
    const mem = memoryLogger();
    let started = 0;
    let finished = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const s = startPollScheduler({
      pollIntervalMs: 3_600_000,
      timeZone: 'America/Sao_Paulo',
      logger: mem.logger,
      tick: async () => {
        started++;
        await gate;
        finished++;
      },
    });
    const a = s.runNow();
    const b = s.runNow();
    expect(started).toBe(1);
    let stopped = false;
    const stopping = s.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(stopped).toBe(false);
    release();
    await Promise.all([a, b, stopping]);
    expect([started, finished, stopped]).toEqual([1, 1, true]);
    expect(mem.lines.some((l) => l.includes('"event":"scheduler.started"') && l.includes('"everySeconds":60'))).toBe(true);
  });
});
