import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RecordingRunner } from '@margay/dataplane';
import { MemoryDatastore } from '@margay/datastore';
import { waitFor } from '@margay/testkit';
import {
  type BirdChildName,
  BirdSupervisor,
  type BirdSupervisorOptions,
  type ChildExit,
  confdStatusKey,
  parseBgpProtocols,
  type Spawner,
} from './bird-supervisor';

/** A child that lives until the test ends it or it is sent a signal. */
class FakeChild {
  readonly signals: NodeJS.Signals[] = [];
  readonly exited: Promise<ChildExit>;
  private finish!: (exit: ChildExit) => void;
  ended = false;

  constructor(
    readonly name: BirdChildName,
    readonly argv: readonly string[],
    readonly pid: number,
    /** Whether SIGTERM ends it (a stuck child needs SIGKILL). */
    private readonly obeysTerm = true,
  ) {
    this.exited = new Promise((resolve) => {
      this.finish = resolve;
    });
  }

  kill(signal: NodeJS.Signals): void {
    this.signals.push(signal);
    if (signal === 'SIGKILL' || this.obeysTerm) this.die(null, signal);
  }

  die(code: number | null, signal: NodeJS.Signals | null = null): void {
    if (this.ended) return;
    this.ended = true;
    this.finish({ code, signal });
  }
}

const SHOW_PROTOCOLS = `BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
device1    Device     ---        up     18:41:48.978
Mesh_10_0_0_2 BGP        ---        up     18:41:50.000  Established
Node_10_0_0_3 BGP        ---        start  18:41:48.978  Active        Socket: Connection refused
`;

let dir: string;
let children: FakeChild[];
let supervisors: BirdSupervisor[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bird-supervisor-'));
  children = [];
  supervisors = [];
});

afterEach(async () => {
  await Promise.all(supervisors.map((s) => s.stop()));
  rmSync(dir, { recursive: true, force: true });
});

interface Setup {
  readonly runner: RecordingRunner;
  readonly store: MemoryDatastore;
  /** BIRD "answers" on the socket while this is true. */
  birdRunning: boolean;
  /** Exit code of `margay-confd --once`, per call. */
  onceCodes: number[];
  obeysTerm: boolean;
}

function setup(
  overrides: Partial<BirdSupervisorOptions> = {},
  onceCodes: number[] = [],
): { s: Setup; supervisor: BirdSupervisor } {
  const s: Setup = {
    runner: new RecordingRunner(),
    store: new MemoryDatastore(),
    birdRunning: false,
    onceCodes,
    obeysTerm: true,
  };
  s.runner.respond = ({ argv }) => {
    if (argv.includes('--once')) return { code: s.onceCodes.shift() ?? 0, stderr: 'node n1: not yet' };
    if (argv[0] === 'birdc' && !s.birdRunning) return { code: 1, stdout: '' };
    if (argv.join(' ').endsWith('show status')) return { stdout: 'BIRD 2.0.12\nDaemon is up and running\n' };
    if (argv.join(' ').endsWith('show protocols')) return { stdout: SHOW_PROTOCOLS };
    if (argv.join(' ').endsWith('graceful restart')) {
      const bird = children.filter((c) => c.name === 'bird').pop();
      setImmediate(() => bird?.die(0));
      return { stdout: 'BIRD 2.0.12 ready.\nGraceful restart requested\n' };
    }
    return {};
  };
  const spawn: Spawner = (name, argv) => {
    const child = new FakeChild(name, argv, 1000 + children.length, s.obeysTerm);
    children.push(child);
    if (name === 'bird') {
      s.birdRunning = true;
      writeFileSync(join(dir, 'bird.ctl'), ''); // the socket appears
      void child.exited.then(() => {
        s.birdRunning = false;
      });
    }
    return child;
  };
  const supervisor = BirdSupervisor.start({
    nodeName: 'n1',
    runDir: dir,
    store: s.store,
    runner: s.runner,
    kernelRoutes: true,
    spawn,
    confdCommand: ['margay-confd'],
    backoffMs: { initial: 10, max: 40 },
    pollIntervalMs: 10,
    stopTimeoutMs: 50,
    ...overrides,
  });
  supervisors.push(supervisor);
  return { s, supervisor };
}

const started = (name: BirdChildName) => children.filter((c) => c.name === name);
const commands = (runner: RecordingRunner) => runner.commands.map((c) => c.argv.join(' '));

test('confd renders once before BIRD starts on that file; then confd watches with the socket', async () => {
  const { s, supervisor } = setup();
  await waitFor('both children', () => started('bird').length === 1 && started('confd').length === 1);
  const cfg = join(dir, 'bird.cfg');
  const sock = join(dir, 'bird.ctl');
  expect(commands(s.runner)[0]).toBe(
    `margay-confd --node-name n1 --config-file ${cfg} --kernel-routes on --once`,
  );
  expect(started('bird')[0]!.argv).toEqual(['bird', '-f', '-c', cfg, '-s', sock]);
  expect(started('confd')[0]!.argv).toEqual([
    'margay-confd',
    '--node-name',
    'n1',
    '--config-file',
    cfg,
    '--kernel-routes',
    'on',
    '--bird-socket',
    sock,
  ]);
  // BIRD was started only after the first render.
  expect(children[0]!.name).toBe('bird');
  expect(supervisor.configFile).toBe(cfg);
});

test('a failing first render is retried, and BIRD waits for it', async () => {
  const { s } = setup({}, [1, 1]);
  await waitFor('BIRD', () => started('bird').length === 1);
  expect(commands(s.runner).filter((c) => c.endsWith('--once'))).toHaveLength(3);
});

test('kernel routes off is passed to confd', async () => {
  const { s } = setup({ kernelRoutes: false });
  await waitFor('confd', () => started('confd').length === 1);
  expect(commands(s.runner)[0]).toContain('--kernel-routes off');
});

test('a child that dies is started again, the other left alone', async () => {
  const { supervisor } = setup();
  await waitFor('both children', () => started('bird').length === 1 && started('confd').length === 1);
  started('confd')[0]!.die(1);
  await waitFor('confd again', () => started('confd').length === 2);
  started('bird')[0]!.die(null, 'SIGSEGV');
  await waitFor('BIRD again', () => started('bird').length === 2);
  expect(started('confd')[1]!.ended).toBe(false);
  expect(supervisor.status().restarts).toEqual({ bird: 1, confd: 1 });
  expect(supervisor.status().pids.bird).toBe(started('bird')[1]!.pid);
});

test('status: BIRD answering, its BGP protocols, and confd status ok or the error with its stage', async () => {
  const { s, supervisor } = setup();
  await waitFor('BIRD', () => started('bird').length === 1);
  expect((await supervisor.refresh()).confdError).toBe('margay-confd has not reported yet');
  await s.store.put(confdStatusKey('n1'), JSON.stringify({ ok: true, node: 'n1' }));
  const ok = await supervisor.refresh();
  expect(ok).toMatchObject({ birdUp: true, confdOk: true });
  expect(ok.protocols.map((p) => p.name)).toEqual(['Mesh_10_0_0_2', 'Node_10_0_0_3']);
  await s.store.put(
    confdStatusKey('n1'),
    JSON.stringify({ ok: false, stage: 'check', error: 'Keepalive time must be at most hold time' }),
  );
  expect(await supervisor.refresh()).toMatchObject({
    confdOk: false,
    confdError: 'check: Keepalive time must be at most hold time',
  });
  s.birdRunning = false;
  expect((await supervisor.refresh()).birdUp).toBe(false);
});

test('stop ends confd first, then asks BIRD for a graceful restart; nothing is restarted', async () => {
  const { s, supervisor } = setup();
  await waitFor('both children', () => started('bird').length === 1 && started('confd').length === 1);
  await supervisor.stop();
  expect(started('confd')[0]!.signals).toEqual(['SIGTERM']);
  expect(started('bird')[0]!.signals).toEqual([]); // it ended on the graceful restart
  expect(commands(s.runner)).toContain(`birdc -s ${join(dir, 'bird.ctl')} graceful restart`);
  expect(children.every((c) => c.ended)).toBe(true);
  await new Promise((resolve) => setTimeout(resolve, 60));
  expect(children).toHaveLength(2);
});

test('a child that ignores SIGTERM is killed after the stop timeout', async () => {
  const { s, supervisor } = setup();
  s.obeysTerm = false;
  await waitFor('both children', () => started('bird').length === 1 && started('confd').length === 1);
  await supervisor.stop();
  expect(started('confd')[0]!.signals).toEqual(['SIGTERM', 'SIGKILL']);
});

test('a BIRD left by a previous run is asked to go before ours starts', async () => {
  writeFileSync(join(dir, 'bird.ctl'), '');
  const runner = new RecordingRunner();
  let answering = true;
  runner.respond = ({ argv }) => {
    const command = argv.join(' ');
    if (command.endsWith('graceful restart')) answering = false;
    if (command.endsWith('show status') && answering) return { stdout: 'Daemon is up and running\n' };
    return {};
  };
  const spawned: string[] = [];
  const supervisor = BirdSupervisor.start({
    nodeName: 'n1',
    runDir: dir,
    store: new MemoryDatastore(),
    runner,
    kernelRoutes: true,
    confdCommand: ['margay-confd'],
    pollIntervalMs: 1000,
    stopTimeoutMs: 50,
    spawn: (name, argv) => {
      spawned.push(name);
      return new FakeChild(name, argv, 1);
    },
  });
  supervisors.push(supervisor);
  await waitFor('BIRD', () => spawned.includes('bird'));
  const seen = runner.commands.map((c) => c.argv.join(' '));
  expect(seen.findIndex((c) => c.endsWith('graceful restart'))).toBeGreaterThan(-1);
  expect(answering).toBe(false);
});

test('parseBgpProtocols keeps BGP rows with their state and info', () => {
  expect(parseBgpProtocols(SHOW_PROTOCOLS)).toEqual([
    { name: 'Mesh_10_0_0_2', state: 'up', info: 'Established' },
    { name: 'Node_10_0_0_3', state: 'start', info: 'Active        Socket: Connection refused' },
  ]);
  expect(parseBgpProtocols('')).toEqual([]);
});
