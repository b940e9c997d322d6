/**
 * Structured logging shared by all packages: quiet by default, JSON lines when enabled.
 * @module
 */

/** Log levels, most verbose first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** Structured fields attached to a log record. */
export type LogFields = Readonly<Record<string, unknown>>;

/** What every component logs through. Pass your own (pino, winston, …) adapter in executor config. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

const RANK: Readonly<Record<LogLevel, number>> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** A logger that drops everything. */
export const silentLogger: Logger = Object.freeze({ debug() {}, info() {}, warn() {}, error() {} });

/** Options of {@link createLogger}. */
export interface CreateLoggerOptions {
  /** Lowest level written. Default: `EXAWORKS_LOG_LEVEL` from the environment, else `warn`. */
  level?: LogLevel;
  /** Component name written in every record. */
  component?: string;
  /** Where JSON lines go. Default: standard error. */
  write?: (line: string) => void;
}

function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && Object.hasOwn(RANK, value);
}

/** A logger writing one JSON object per line: `{"time","level","component","msg",…fields}`. */
export function createLogger(options: CreateLoggerOptions = {}): Logger {
  const envLevel = process.env.EXAWORKS_LOG_LEVEL;
  const level: LogLevel = options.level ?? (isLogLevel(envLevel) ? envLevel : 'warn');
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const min = RANK[level];
  const log = (lvl: Exclude<LogLevel, 'silent'>) => (msg: string, fields?: LogFields) => {
    if (RANK[lvl] < min) return;
    const record: Record<string, unknown> = { time: new Date().toISOString(), level: lvl };
    if (options.component) record.component = options.component;
    record.msg = msg;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) record[k] = v instanceof Error ? { name: v.name, message: v.message } : v;
    }
    write(`${JSON.stringify(record)}\n`);
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
