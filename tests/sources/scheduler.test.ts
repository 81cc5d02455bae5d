import { describe, expect, it } from 'vitest';
import { startPollScheduler, tickSeconds } from '../../src/sources/scheduler.js';
import { memoryLogger } from '../platforms/telegram/helpers.js';

describe('poll scheduler', () => {
  it('ticks at a hundred-and-twentieth of the poll interval, between 1 s and 30 s, on a divisor of 60', () => {
    expect(tickSeconds(10_000)).toBe(1);
    expect(tickSeconds(2 * 60_000)).toBe(1);
    expect(tickSeconds(5 * 60_000)).toBe(3);
    expect(tickSeconds(10 * 60_000)).toBe(5);
    expect(tickSeconds(20 * 60_000)).toBe(10);
    expect(tickSeconds(30 * 60_000)).toBe(15);
    expect(tickSeconds(3_600_000)).toBe(30);
    expect(tickSeconds(14 * 60_000)).toBe(6);
  });

  it('a tick starts even while an earlier one is running, a failing tick is logged, and stop() waits for all of them', async () => {
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
        if (started === 3) throw new Error('boom');
        await gate;
        finished++;
      },
    });
    const a = s.runNow();
    const b = s.runNow();
    await s.runNow();
    expect(started).toBe(3);
    expect(mem.lines.some((l) => l.includes('"event":"scheduler.tick_failed"'))).toBe(true);
    let stopped = false;
    const stopping = s.stop().then(() => (stopped = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(stopped).toBe(false);
    // No tick starts once stopping.
    await s.runNow();
    expect(started).toBe(3);
    release();
    await Promise.all([a, b, stopping]);
    expect([finished, stopped]).toEqual([2, true]);
    expect(mem.lines.some((l) => l.includes('"event":"scheduler.started"') && l.includes('"everySeconds":30'))).toBe(true);
  });
});
