import { spawnSync } from 'node:child_process';
import { isAlive } from './process';

test('isAlive: this process is, an exited child is not, no pid is not', () => {
  expect(isAlive(process.pid)).toBe(true);
  const child = spawnSync(process.execPath, ['-e', '']);
  expect(child.pid).toBeGreaterThan(0);
  expect(isAlive(child.pid)).toBe(false);
  expect(isAlive(undefined)).toBe(false);
});
