import { pino } from 'pino';
import type { Logger } from 'pino';

/**
 * The process logger: structured JSON (pino). Credentials never reach a log line: request
 * authorization headers, tokens, client keys and Secret data are redacted wherever they appear.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'headers.authorization',
  '*.token',
  '*.bearerToken',
  '*.password',
  '*.clientKey',
  '*.privateKey',
  '*.data',
  '*.stringData',
];

export function createLogger(options: { level?: string; destination?: 1 | 2 } = {}): Logger {
  return pino(
    { level: options.level ?? process.env['FLOTILLA_LOG_LEVEL'] ?? 'info', redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
    pino.destination({ fd: options.destination ?? 2, sync: true }),
  );
}
