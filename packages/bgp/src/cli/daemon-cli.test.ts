import type { LogFields, Logger } from '@margay/log';
import { EXIT_ERROR, EXIT_OK, oneOf, untilSignalled } from './daemon-cli';

function recordingLogger(): Logger & {
  lines: Array<{ level: string; message: string; fields?: LogFields }>;
} {
  const lines: Array<{ level: string; message: string; fields?: LogFields }> = [];
  const at = (level: string) => (message: string, fields?: LogFields) =>
    lines.push({ level, message, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

describe('oneOf', () => {
  it('returns an allowed value and names the flag and the choices otherwise', () => {
    expect(oneOf('--mode', 'full', ['full', 'route-reflector'])).toBe('full');
    expect(() => oneOf('--mode', 'half', ['full', 'route-reflector'])).toThrow(
      '--mode "half" is not one of full, route-reflector',
    );
  });
});

describe('untilSignalled', () => {
  const listeners = () => ['SIGTERM', 'SIGINT', 'SIGHUP'].map((s) => process.listenerCount(s));

  it('stops on SIGTERM, resolves EXIT_OK and removes its handlers', async () => {
    const before = listeners();
    const logger = recordingLogger();
    let stopped = 0;
    let hangups = 0;
    const exit = untilSignalled({
      logger,
      shuttingDown: 'bye',
      stop: async () => {
        stopped++;
      },
      onHangup: () => hangups++,
    });
    process.emit('SIGHUP', 'SIGHUP');
    process.emit('SIGTERM', 'SIGTERM');
    expect(await exit).toBe(EXIT_OK);
    expect(stopped).toBe(1);
    expect(hangups).toBe(1);
    expect(logger.lines).toContainEqual({ level: 'info', message: 'bye', fields: { signal: 'SIGTERM' } });
    expect(listeners()).toEqual(before);
  });

  it('resolves EXIT_ERROR and logs why when stopping fails', async () => {
    const logger = recordingLogger();
    const exit = untilSignalled({
      logger,
      shuttingDown: 'bye',
      stop: () => Promise.reject(new Error('stuck')),
    });
    process.emit('SIGINT', 'SIGINT');
    expect(await exit).toBe(EXIT_ERROR);
    expect(logger.lines).toContainEqual({
      level: 'error',
      message: 'shutdown failed',
      fields: { error: 'stuck' },
    });
  });
});
