import { type KernelRoute, type RecordedCommand, RecordingRunner } from '@margay/dataplane';
import { RouteManager } from './route-manager';

/** A kernel as `ip -j route show` reports it: IPv4 routes of proto 78 in the main table. */
function kernelAnswering(routes: () => object[]) {
  return (command: RecordedCommand) =>
    command.argv.join(' ') === 'ip -j -4 route show table 254 proto 78'
      ? { stdout: JSON.stringify(routes()) }
      : {};
}

const workload: KernelRoute = { dst: '10.0.1.5/32', type: 'link', dev: 'mgweb' };
const block: KernelRoute = { dst: '10.0.1.0/26', type: 'blackhole' };

function setup(kernel: object[] = []) {
  const desired = new Map<string, KernelRoute>();
  const errors: string[] = [];
  const runner = new RecordingRunner(kernelAnswering(() => kernel));
  const manager = new RouteManager({
    runner,
    desired: () => desired,
    debounceMs: 50,
    reconcileIntervalMs: 90_000,
    retryDelayMs: 1_000,
    onError: (message) => errors.push(message),
  });
  return { desired, errors, runner, manager };
}

describe('RouteManager', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('starts with a reconcile that adopts matching routes of its proto and replaces the rest in one batch', async () => {
    const { desired, runner, manager } = setup([
      { dst: '10.0.1.5', dev: 'mgweb', protocol: '78', scope: 'link', flags: [] },
      { dst: '10.0.1.9', dev: 'mggone', protocol: '78', scope: 'link', flags: [] },
    ]);
    desired.set(workload.dst, workload).set(block.dst, block);
    await manager.start();
    expect(runner.commands.map((c) => c.argv.join(' '))).toEqual([
      'ip -j -4 route show table 254 proto 78',
      'ip -j -6 route show table 254 proto 78',
      'ip -force -batch -',
    ]);
    expect(runner.batches()).toEqual([
      'route replace blackhole 10.0.1.0/26 proto 78 table 254 metric 0\n' +
        'route del 10.0.1.9/32 proto 78 table 254 metric 0\n',
    ]);
    await manager.stop();
  });

  test('writes nothing before start; after it, changes within the debounce go out as one batch', async () => {
    const { desired, runner, manager } = setup();
    desired.set(workload.dst, workload);
    manager.invalidate();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(runner.commands).toEqual([]);

    await manager.start();
    desired.delete(workload.dst);
    manager.invalidate();
    desired.set(block.dst, block);
    manager.invalidate();
    await jest.advanceTimersByTimeAsync(50);
    expect(runner.batches()).toEqual([
      'route replace 10.0.1.5/32 dev mgweb scope link proto 78 table 254 metric 0\n',
      'route del 10.0.1.5/32 proto 78 table 254 metric 0\n' +
        'route replace blackhole 10.0.1.0/26 proto 78 table 254 metric 0\n',
    ]);
    await manager.stop();
  });

  test('the periodic reconcile restores a route someone deleted', async () => {
    const kernel: object[] = [];
    const { desired, runner, manager } = setup(kernel);
    desired.set(workload.dst, workload);
    await manager.start();
    // The kernel now holds the route; a flush with nothing changed writes nothing.
    kernel.push({ dst: '10.0.1.5', dev: 'mgweb', protocol: '78', scope: 'link', flags: [] });
    manager.invalidate();
    await jest.advanceTimersByTimeAsync(89_999);
    expect(runner.batches()).toHaveLength(1);
    kernel.pop();
    await jest.advanceTimersByTimeAsync(1);
    expect(runner.batches()).toEqual([
      'route replace 10.0.1.5/32 dev mgweb scope link proto 78 table 254 metric 0\n',
      'route replace 10.0.1.5/32 dev mgweb scope link proto 78 table 254 metric 0\n',
    ]);
    await manager.stop();
  });

  test('reports a refused route and retries it after the retry delay', async () => {
    const { desired, errors, runner, manager } = setup();
    let refuse = true;
    runner.respond = (command) =>
      command.argv.includes('-batch') && refuse
        ? { code: 1, stderr: 'Cannot find device "mgweb"\nCommand failed -:1\n' }
        : {};
    desired.set(workload.dst, workload);
    await manager.start();
    expect(errors).toEqual([
      'route 10.0.1.5/32 not programmed (route replace 10.0.1.5/32 dev mgweb scope link proto 78 table 254 metric 0): Cannot find device "mgweb"',
    ]);
    refuse = false;
    await jest.advanceTimersByTimeAsync(1_000);
    expect(runner.batches()).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(runner.batches()).toHaveLength(2);
    await manager.stop();
  });

  test('a failed read is reported and retried; stop leaves the routes and ends all writing', async () => {
    const { desired, errors, runner, manager } = setup();
    runner.respond = (command) => (command.argv.includes('show') ? { code: 1, stderr: 'boom' } : {});
    desired.set(workload.dst, workload);
    await manager.start();
    expect(errors).toEqual([
      'writing routes failed: ip -j -4 route show table 254 proto 78 failed (1): boom',
    ]);
    runner.respond = () => ({});
    await jest.advanceTimersByTimeAsync(1_000);
    expect(runner.batches()).toEqual([
      'route replace 10.0.1.5/32 dev mgweb scope link proto 78 table 254 metric 0\n',
    ]);
    await manager.stop();
    const seen = runner.commands.length;
    manager.invalidate();
    await jest.advanceTimersByTimeAsync(200_000);
    expect(runner.commands).toHaveLength(seen);
  });

  test('rejects bad timing options, naming them', () => {
    const base = { runner: new RecordingRunner(), desired: () => new Map<string, KernelRoute>() };
    expect(() => new RouteManager({ ...base, reconcileIntervalMs: 0 })).toThrow(
      'RouteManager reconcileIntervalMs 0 must be a number > 0',
    );
    expect(() => new RouteManager({ ...base, debounceMs: -1 })).toThrow(
      'RouteManager debounceMs -1 must be a number >= 0',
    );
    expect(() => new RouteManager({ ...base, retryDelayMs: Number.NaN })).toThrow('retryDelayMs NaN');
  });
});
