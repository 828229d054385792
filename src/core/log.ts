import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** Keys whose values never reach a log line. */
const REDACT = [
  '*.password',
  '*.token',
  '*.secret',
  '*.authorization',
  '*.Authorization',
  'password',
  'token',
  'headers.authorization',
  'auth.password',
];

/**
 * The one root logger: JSON lines to stdout (or to `destination` in tests). Parts receive child
 * loggers that carry their context: `log.child({ stage: 'inference', camera: 'cam1' })`.
 */
export function createLogger(level: LoggerOptions['level'] = 'info', destination?: NodeJS.WritableStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { pid: process.pid },
    redact: { paths: REDACT, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}
