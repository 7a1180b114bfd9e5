import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs on stderr (stdout stays free for values scripts capture).
 * Known secret-bearing fields are redacted wherever they appear, as a second
 * line of defence: code should not log them in the first place.
 */
export function createLogger(name: string, level = process.env.SKYBRIDGE_LOG_LEVEL ?? 'info', destination?: pino.DestinationStream): Logger {
  return pino(
    {
      name,
      level,
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: [
          'token',
          '*.token',
          'authorization',
          '*.authorization',
          'proxy-authorization',
          '*["proxy-authorization"]',
          'headers.authorization',
          'headers.cookie',
          'keyPem',
          '*.keyPem',
          'password',
          '*.password',
          'pairingCode',
          '*.pairingCode',
          'secret',
          '*.secret',
        ],
        censor: '[redacted]',
      },
    },
    destination ?? pino.destination({ fd: 2, sync: false }),
  );
}

/** A logger that drops everything, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
