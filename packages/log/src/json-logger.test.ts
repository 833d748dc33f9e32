import { jsonLogger } from './json-logger';
import { silentLogger } from './logger';

function capture() {
  const lines: string[] = [];
  return { lines, out: { write: (line: string) => lines.push(line) } };
}

describe('jsonLogger', () => {
  it('writes one JSON object per line with time, level, message and the fields', () => {
    const { lines, out } = capture();
    jsonLogger(out).warn('peer down', { peer: '10.0.0.2', code: 4 });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ level: 'warn', message: 'peer down', peer: '10.0.0.2', code: 4 });
    expect(Number.isNaN(Date.parse(line['time'] as string))).toBe(false);
  });

  it('drops lines below its level, and follows a level changed while running', () => {
    const { lines, out } = capture();
    const logger = jsonLogger(out, 'warn');
    logger.info('hidden');
    logger.error('shown');
    logger.level = 'debug';
    logger.debug('now shown');
    expect(lines.map((l) => (JSON.parse(l) as { message: string }).message)).toEqual(['shown', 'now shown']);
  });
});

describe('silentLogger', () => {
  it('accepts every level and writes nothing', () => {
    const write = jest.spyOn(process.stderr, 'write');
    try {
      for (const level of ['debug', 'info', 'warn', 'error'] as const) silentLogger[level]('x', { a: 1 });
      expect(write).not.toHaveBeenCalled();
    } finally {
      write.mockRestore();
    }
  });
});
