import { Backoff } from './backoff';

test('backoff doubles from the initial delay up to the cap, and starts over after reset', () => {
  const backoff = new Backoff(100, 5_000);
  const delays = Array.from({ length: 9 }, () => backoff.next());
  expect(delays).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
  backoff.reset();
  expect(backoff.next()).toBe(100);
});
