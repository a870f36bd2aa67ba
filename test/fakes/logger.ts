/** A logger that keeps its lines for assertions. */
import { createLogger, type Logger } from '../../src/lib/logger.js';

export function memoryLogger(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger((l) => lines.push(l), 'debug', () => new Date(0)), lines };
}
