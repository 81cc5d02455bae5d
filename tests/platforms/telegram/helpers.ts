import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../../src/log.js';

/** A token shaped like @BotFather's, so shape-based scrubbing is exercised too. */
export const TOKEN = '123456789:AAH-fake_token_for_tests_0123456789abcd';

/** A pino logger whose lines are kept in memory, for assertions on what was logged. */
export function memoryLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { logger: createLogger({ level: 'debug' }, stream), lines };
}
