import { parseDemoFlags } from './main';
import { formatSeconds, indent, Progress, StepFailure, stepLine } from './progress';
import { differences, keepHints, renderMatrix, renderSummary } from './report';
import { expectedAfterPolicy, planPods } from './scenario';

const plain = { color: false };

/** An output that records what was written. */
function recorder() {
  const writes: string[] = [];
  return { writes, out: { write: (text: string) => writes.push(text) }, text: () => writes.join('') };
}

/** A clock that advances by `stepMs` every time it is read. */
function ticking(stepMs: number) {
  let now = 0;
  return () => {
    now += stepMs;
    return now;
  };
}

describe('formatSeconds', () => {
  test.each([
    [0, '0.0s'],
    [49, '0.0s'],
    [1234, '1.2s'],
    [59_940, '59.9s'],
    [60_000, '1m00s'],
    [125_400, '2m05s'],
    [-5, '0.0s'],
  ])('%d ms → %s', (ms, text) => {
    expect(formatSeconds(ms)).toBe(text);
  });
});

describe('stepLine', () => {
  test('marks, time and note, without escape codes when colour is off', () => {
    expect(stepLine({ title: 'Start pods', state: 'ok', ms: 2100, note: '3 pods' }, plain)).toBe(
      '✓ Start pods  2.1s  3 pods',
    );
    expect(stepLine({ title: 'Ping', state: 'failed', ms: 30_000 }, plain)).toBe('✗ Ping  30.0s');
    expect(stepLine({ title: 'Ping', state: 'running', ms: 0 }, plain, 1)).toBe('⠙ Ping  0.0s');
  });

  test('colour wraps the mark in ANSI codes', () => {
    expect(stepLine({ title: 'x', state: 'ok', ms: 0 }, { color: true })).toContain('\x1b[32m✓\x1b[0m');
  });
});

describe('indent', () => {
  test('indents every non-empty line and drops trailing whitespace', () => {
    expect(indent('a\n\n b\n\n', 2)).toBe('  a\n\n   b');
  });
});

describe('Progress', () => {
  test('plain mode: a start line, then the end line with its time, then what the step showed', async () => {
    const { out, text } = recorder();
    const progress = new Progress(out, { color: false, live: false, now: ticking(500) });
    const result = await progress.step('Bring up', async (step) => {
      step.show('node-1  10.0.0.1');
      step.note('1 node');
      return 42;
    });
    expect(result).toBe(42);
    expect(text()).toBe('… Bring up\n✓ Bring up  0.5s  1 node\n    node-1  10.0.0.1\n\n');
    expect(text()).not.toContain('\x1b');
    expect(progress.records()).toEqual([{ title: 'Bring up', state: 'ok', ms: 500, note: '1 node' }]);
  });

  test('a failing step is marked ✗, still shows its output, and throws a StepFailure naming it', async () => {
    const { out, text } = recorder();
    const progress = new Progress(out, { color: false, live: false, now: ticking(100) });
    const failure = progress.step('Ping', async (step) => {
      step.show('matrix');
      step.note('dropped');
      throw new Error('web did not answer');
    });
    await expect(failure).rejects.toBeInstanceOf(StepFailure);
    await expect(failure).rejects.toMatchObject({ step: 'Ping', cause: { message: 'web did not answer' } });
    expect(text()).toContain('✗ Ping  0.1s\n    matrix');
    expect(progress.records()[0]!.state).toBe('failed');
  });

  test('live mode redraws the running line in place, then ends with the final line', async () => {
    const { out, writes } = recorder();
    const progress = new Progress(out, { color: false, live: true, now: ticking(100) });
    await progress.step('Routes', async () => undefined);
    expect(writes[0]).toMatch(/^\r\x1b\[2K⠋ Routes/);
    expect(writes.at(-1)).toBe('✓ Routes  0.2s\n');
  });

  test('live mode shortens a running line to the terminal width, so redrawing it never wraps', async () => {
    const { out, writes } = recorder();
    const progress = new Progress(out, { color: false, live: true, columns: 30, now: ticking(100) });
    await progress.step('Apply a Kubernetes NetworkPolicy that blocks one flow', async () => undefined);
    const running = writes[0]!.replace('\r\x1b[2K', '');
    expect(running).toBe('⠋ Apply a Kubernete…  0.1s');
    expect(running.length).toBeLessThanOrEqual(30);
    expect(writes.at(-1)).toContain('✓ Apply a Kubernetes NetworkPolicy that blocks one flow');
  });

  test('abandon ends the running step as failed once; its later end prints nothing more', async () => {
    const { out, text } = recorder();
    const progress = new Progress(out, { color: false, live: false, now: ticking(100) });
    let release = () => {};
    const running = progress.step('Slow', () => new Promise<void>((resolve) => (release = resolve)));
    progress.abandon('interrupted by SIGINT');
    release();
    await running;
    expect(text()).toBe('… Slow\n✗ Slow  0.1s  interrupted by SIGINT\n');
    expect(progress.records()[0]!.state).toBe('failed');
  });

  test('after abandon, later steps do not run, except the teardown marked afterAbandon', async () => {
    const { out, text } = recorder();
    const progress = new Progress(out, { color: false, live: false, now: ticking(100) });
    progress.abandon('interrupted by SIGTERM');
    let ran = false;
    const next = progress.step('Routes', async () => {
      ran = true;
    });
    await expect(next).rejects.toMatchObject({
      step: 'Routes',
      cause: { message: 'not started: interrupted by SIGTERM' },
    });
    expect(ran).toBe(false);
    await progress.step('Tear down', async () => undefined, { afterAbandon: true });
    expect(text()).toBe('… Tear down\n✓ Tear down  0.1s\n');
    expect(progress.records().map((step) => [step.title, step.state])).toEqual([['Tear down', 'ok']]);
  });
});

describe('renderMatrix', () => {
  test('clients down, servers across, · on the diagonal, node labels on the rows', () => {
    const pods = ['web', 'frontend', 'batch'];
    const blocked = new Set(['batch>web']);
    const text = renderMatrix(
      pods,
      (from, to) => (from === to ? undefined : !blocked.has(`${from}>${to}`)),
      plain,
      { web: 'node-1', frontend: 'node-2', batch: 'node-3' },
    );
    expect(text.split('\n')).toEqual([
      'from \\ to          web       frontend  batch',
      'web (node-1)       ·         ✓         ✓',
      'frontend (node-2)  ✓         ·         ✓',
      'batch (node-3)     ✗         ✓         ·',
    ]);
  });

  test('cells stay aligned when colour codes are added', () => {
    const text = renderMatrix(['a', 'bb'], (from, to) => from !== to, { color: true });
    const visible = text.replace(/\x1b\[\d+m/g, '');
    expect(visible.split('\n')).toEqual(['from \\ to  a   bb', 'a          ✗   ✓', 'bb         ✓   ✗']);
  });
});

describe('differences', () => {
  test('names each pair that is not as expected, and ignores a pod and itself', () => {
    const got = (from: string, to: string) => from === 'a' || to === 'a';
    const want = (from: string, to: string) => from !== to;
    expect(differences(['a', 'b', 'c'], got, want)).toEqual([
      'b → c (blocked, expected reached)',
      'c → b (blocked, expected reached)',
    ]);
  });
});

describe('renderSummary', () => {
  const steps = [
    { title: 'Bring up', state: 'ok' as const, ms: 4200 },
    { title: 'Ping', state: 'failed' as const, ms: 30_000 },
  ];

  test('a failure names the step; every step has its mark and time; facts are listed', () => {
    const text = renderSummary({ steps, shown: ['3 nodes'], totalMs: 34_500, failedStep: 'Ping' }, plain);
    expect(text).toBe(
      [
        'Summary: failed at "Ping" in 34.5s',
        '',
        'Steps:',
        '  ✓ Bring up    4.2s',
        '  ✗ Ping       30.0s',
        '',
        'Shown:',
        '  - 3 nodes',
        '',
      ].join('\n'),
    );
  });

  test('success and interruption are told apart', () => {
    expect(renderSummary({ steps, shown: [], totalMs: 1000 }, plain)).toContain('all steps passed in 1.0s');
    expect(renderSummary({ steps, shown: [], totalMs: 1000, interrupted: 'SIGINT' }, plain)).toContain(
      'interrupted by SIGINT',
    );
  });
});

describe('keepHints', () => {
  test('every command names the cluster, including the one that tears it down', () => {
    const text = keepHints('demo-7', 'node-1', [
      { from: 'batch', to: 'web', ip: '10.244.0.0', note: 'blocked' },
    ]);
    expect(text).toContain('e2e/cluster exec node-1 --name demo-7 -- bin/margayctl node status');
    expect(text).toContain(
      'e2e/cluster pod exec batch --name demo-7 -- ping -c 1 -W 1 10.244.0.0   # batch → web: blocked',
    );
    expect(text).toContain('e2e/cluster down --name demo-7');
    for (const line of text.split('\n').filter((l) => l.includes('e2e/cluster '))) {
      expect(line).toContain('--name demo-7');
    }
  });
});

describe('planPods', () => {
  test('the policy cast first, round-robin over the nodes, one pod per extra node', () => {
    expect(planPods(['node-1', 'node-2', 'node-3']).map((pod) => [pod.name, pod.node])).toEqual([
      ['web', 'node-1'],
      ['frontend', 'node-2'],
      ['batch', 'node-3'],
    ]);
    expect(planPods(['n1', 'n2', 'n3', 'n4', 'n5']).map((pod) => `${pod.name}@${pod.node}`)).toEqual([
      'web@n1',
      'frontend@n2',
      'batch@n3',
      'batch-2@n4',
      'batch-3@n5',
    ]);
    expect(planPods(['n1', 'n2']).map((pod) => pod.node)).toEqual(['n1', 'n2', 'n1']);
  });
});

describe('expectedAfterPolicy', () => {
  test('only frontend reaches web; every other flow stays open', () => {
    const want = expectedAfterPolicy(planPods(['n1', 'n2', 'n3', 'n4']));
    expect(want('frontend', 'web')).toBe(true);
    expect(want('batch', 'web')).toBe(false);
    expect(want('batch-2', 'web')).toBe(false);
    expect(want('web', 'frontend')).toBe(true);
    expect(want('batch', 'frontend')).toBe(true);
    expect(want('web', 'web')).toBeUndefined();
  });
});

describe('parseDemoFlags', () => {
  test('defaults: 3 nodes, a name from the pid, not kept', () => {
    expect(parseDemoFlags([], 99)).toEqual({ nodes: 3, name: 'demo-99', keep: false });
    expect(parseDemoFlags(['--nodes', '4', '--name', 'x', '--keep'], 1)).toEqual({
      nodes: 4,
      name: 'x',
      keep: true,
    });
    expect(parseDemoFlags(['-h'], 1)).toBe('help');
  });

  test('bad values and unknown flags are refused by name', () => {
    expect(() => parseDemoFlags(['--nodes', '1'], 1)).toThrow(
      '--nodes "1" is not a whole number from 2 to 20',
    );
    expect(() => parseDemoFlags(['--nodes', '3x'], 1)).toThrow('--nodes "3x"');
    expect(() => parseDemoFlags(['--bogus'], 1)).toThrow(/bogus/);
  });
});
