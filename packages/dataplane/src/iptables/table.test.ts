import { waitFor } from '@margay/testkit';
import { type CommandRunner, RecordingRunner } from '../command';
import { BackendDetector, type IptablesBackendMode } from './backend';
import { hashRules } from './rules';
import { Table } from './table';
import type { Chain } from './types';

const FOREIGN = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:KUBE-SERVICES - [0:0]
-A INPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
-A FORWARD -o docker0 -j DOCKER
COMMIT
`;

const dispatch: Chain = {
  name: 'mg-FORWARD',
  rules: [
    { match: '-i mgA', action: '-j mg-fw-mgA' },
    { match: '', action: '-j DROP', comment: 'Unknown interface' },
  ],
};
const endpoint: Chain = { name: 'mg-fw-mgA', rules: [{ match: '-p tcp --dport 80', action: '-j ACCEPT' }] };
const hook = [{ match: '', action: '-j mg-FORWARD' }];

/** A runner whose iptables-nft-save prints `state.saved`; every restore is recorded. */
function fakeKernel(saved: string) {
  const state = { saved, restoreCode: 0, restoreStderr: '' };
  const runner = new RecordingRunner((command) => {
    if (command.argv[0] === 'iptables-nft-save') return { stdout: state.saved };
    if (command.argv[0] === 'iptables-nft-restore')
      return { code: state.restoreCode, stderr: state.restoreStderr };
    return { code: 1, stderr: 'unexpected command' };
  });
  const restores = () => runner.commands.filter((c) => c.argv[0] === 'iptables-nft-restore');
  return { state, runner, restores };
}

function programmed(): { table: Table; kernel: ReturnType<typeof fakeKernel> } {
  const kernel = fakeKernel(FOREIGN);
  const table = new Table({ runner: kernel.runner, name: 'filter', backend: 'nft' });
  table.updateChains([dispatch, endpoint]);
  table.setHooks('FORWARD', hook);
  return { table, kernel };
}

describe('Table', () => {
  test('first apply creates our chains and hooks in one noflush restore, never naming foreign chains', async () => {
    const { table, kernel } = programmed();
    const result = await table.apply();
    const [restore] = kernel.restores();
    expect(kernel.restores()).toHaveLength(1);
    expect(restore?.argv).toEqual(['iptables-nft-restore', '--noflush', '--wait', '10']);
    const [d0, d1] = hashRules('mg-FORWARD', dispatch.rules);
    const [e0] = hashRules('mg-fw-mgA', endpoint.rules);
    const [h0] = hashRules('FORWARD', hook);
    expect(restore?.input).toBe(
      [
        '*filter',
        ':mg-FORWARD - [0:0]',
        ':mg-fw-mgA - [0:0]',
        `-A mg-FORWARD ${d0?.text}`,
        `-A mg-FORWARD ${d1?.text}`,
        `-A mg-fw-mgA ${e0?.text}`,
        `-I FORWARD 1 ${h0?.text}`,
        'COMMIT',
        '',
      ].join('\n'),
    );
    expect(restore?.input).not.toMatch(/DOCKER|KUBE|:FORWARD|:INPUT/);
    expect(result).toEqual({ chainsWritten: 3, bytesWritten: Buffer.byteLength(restore?.input ?? '') });
  });

  test('an apply with nothing changed writes nothing; a changed chain is the only one rewritten', async () => {
    const { table, kernel } = programmed();
    await table.apply();
    expect(await table.apply()).toEqual({ chainsWritten: 0, bytesWritten: 0 });
    expect(kernel.restores()).toHaveLength(1);

    table.updateChains([
      { name: 'mg-fw-mgA', rules: [{ match: '-p tcp --dport 443', action: '-j ACCEPT' }] },
    ]);
    const result = await table.apply();
    const input = kernel.restores()[1]?.input ?? '';
    expect(input).toContain(':mg-fw-mgA - [0:0]');
    expect(input).toContain('--dport 443');
    expect(input).not.toContain('mg-FORWARD');
    expect(result.chainsWritten).toBe(1);
    expect(result.bytesWritten).toBe(Buffer.byteLength(input));
  });

  test('adopts matching rules found in the kernel after a restart instead of rewriting them', async () => {
    const first = programmed();
    await first.table.apply();
    const [h0] = hashRules('FORWARD', hook);
    const saved = FOREIGN.replace(
      ':KUBE-SERVICES - [0:0]\n',
      ':KUBE-SERVICES - [0:0]\n:mg-FORWARD - [0:0]\n:mg-fw-mgA - [0:0]\n',
    )
      .replace('-A FORWARD -o docker0', `-A FORWARD ${h0?.text}\n-A FORWARD -o docker0`)
      .replace(
        'COMMIT',
        [
          ...hashRules('mg-FORWARD', dispatch.rules).map((r) => `-A mg-FORWARD ${r.text}`),
          ...hashRules('mg-fw-mgA', endpoint.rules).map((r) => `-A mg-fw-mgA ${r.text}`),
          'COMMIT',
        ].join('\n'),
      );
    const second = programmed();
    second.kernel.state.saved = saved;
    expect(await second.table.apply()).toEqual({ chainsWritten: 0, bytesWritten: 0 });
  });

  test('chains updated while a restore runs are written by the next apply, and only once', async () => {
    const inputs: string[] = [];
    let release: (() => void) | undefined;
    const runner: CommandRunner = {
      run: async (argv, input = '') => {
        if (argv[0] === 'iptables-nft-save') return { code: 0, stdout: FOREIGN, stderr: '' };
        inputs.push(input);
        if (inputs.length === 1) await new Promise<void>((resolve) => (release = resolve));
        return { code: 0, stdout: '', stderr: '' };
      },
    };
    const table = new Table({ runner, name: 'filter', backend: 'nft' });
    table.updateChains([endpoint]);
    const first = table.apply({ additive: true });
    await waitFor('the first restore', () => release !== undefined, 5_000);
    const other: Chain = { name: 'mg-fw-mgB', rules: [{ match: '-p udp', action: '-j ACCEPT' }] };
    table.updateChains([
      other,
      { ...endpoint, rules: [{ match: '-p tcp --dport 81', action: '-j ACCEPT' }] },
    ]);
    release?.();
    await first;
    expect(inputs[0]).toContain('--dport 80');
    expect(inputs[0]).not.toContain('mg-fw-mgB');
    await table.apply({ additive: true });
    expect(inputs[1]).toContain(':mg-fw-mgB');
    expect(inputs[1]).toMatch(/^-A mg-fw-mgA .*-p tcp --dport 81 -j ACCEPT$/m);
    await table.apply();
    await table.apply({ additive: true });
    expect(inputs).toHaveLength(2); // both written: nothing left to compare or write
  });

  test('refresh repairs a chain someone changed and moves our hook back to the top', async () => {
    const { table, kernel } = programmed();
    await table.apply();
    const [d0] = hashRules('mg-FORWARD', dispatch.rules);
    const [h0] = hashRules('FORWARD', hook);
    // Someone deleted our second dispatch rule and inserted a rule above our hook.
    kernel.state.saved = FOREIGN.replace(
      ':KUBE-SERVICES - [0:0]\n',
      ':KUBE-SERVICES - [0:0]\n:mg-FORWARD - [0:0]\n:mg-fw-mgA - [0:0]\n',
    )
      .replace(
        '-A FORWARD -o docker0',
        `-A FORWARD -j DOCKER-USER\n-A FORWARD ${h0?.text}\n-A FORWARD -o docker0`,
      )
      .replace(
        'COMMIT',
        [
          `-A mg-FORWARD ${d0?.text}`,
          ...hashRules('mg-fw-mgA', endpoint.rules).map((r) => `-A mg-fw-mgA ${r.text}`),
          'COMMIT',
        ].join('\n'),
      );
    const result = await table.refresh();
    const input = kernel.restores()[1]?.input ?? '';
    expect(input.split('\n')).toEqual([
      '*filter',
      ':mg-FORWARD - [0:0]',
      `-D FORWARD ${h0?.text}`,
      ...hashRules('mg-FORWARD', dispatch.rules).map((r) => `-A mg-FORWARD ${r.text}`),
      `-I FORWARD 1 ${h0?.text}`,
      'COMMIT',
      '',
    ]);
    expect(result.chainsWritten).toBe(2);
  });

  test('removes stale hooks by value and deletes removed chains only once nothing jumps to them', async () => {
    const { table, kernel } = programmed();
    await table.apply();
    // mg-fw-mgA is no longer wanted, but mg-FORWARD (unchanged) still jumps to it: it must stay.
    table.removeChains(['mg-fw-mgA']);
    expect(await table.apply()).toEqual({ chainsWritten: 0, bytesWritten: 0 });
    // Now the dispatch chain stops jumping to it, and the hook goes away.
    table.updateChains([{ name: 'mg-FORWARD', rules: [{ match: '', action: '-j DROP' }] }]);
    table.setHooks('FORWARD', []);
    const result = await table.apply();
    const lines = (kernel.restores()[1]?.input ?? '').split('\n');
    const [h0] = hashRules('FORWARD', hook);
    expect(lines).toContain(`-D FORWARD ${h0?.text}`);
    expect(lines).toContain(':mg-fw-mgA - [0:0]');
    expect(lines.at(-3)).toBe('-X mg-fw-mgA');
    expect(lines.indexOf('-X mg-fw-mgA')).toBeGreaterThan(lines.indexOf(`-D FORWARD ${h0?.text}`));
    expect(result.chainsWritten).toBe(3);
  });

  test('a failed restore names the table and the refused line, and the next apply re-reads the kernel', async () => {
    const { table, kernel } = programmed();
    kernel.state.restoreCode = 2;
    kernel.state.restoreStderr =
      "iptables-nft-restore v1.8.9 (nf_tables): Chain 'mg-fw-mgA' does not exist\nError occurred at line: 6\nTry `iptables-nft-restore -h' for more information.\n";
    await expect(table.apply()).rejects.toThrow(
      /iptables-nft-restore for table 'filter' failed \(2\): .*Chain 'mg-fw-mgA' does not exist.*; input line 6: -A mg-fw-mgA -m comment/,
    );
    kernel.state.restoreCode = 0;
    const saves = () => kernel.runner.commands.filter((c) => c.argv[0] === 'iptables-nft-save').length;
    const before = saves();
    await table.apply();
    expect(saves()).toBe(before + 1);
  });

  test('prime reads the kernel before anything is staged; the first apply then writes without reading', async () => {
    const kernel = fakeKernel(
      FOREIGN.replace(
        'COMMIT',
        `:mg-fw-mgA - [0:0]\n-A mg-fw-mgA ${hashRules('mg-fw-mgA', endpoint.rules)[0]?.text}\nCOMMIT`,
      ),
    );
    const table = new Table({ runner: kernel.runner, name: 'filter', backend: 'nft' });
    expect(await table.prime()).toEqual({ ours: 1 });
    expect(await table.prime()).toEqual({ ours: 1 }); // once read, priming again reads nothing
    const argv = kernel.runner.commands.map((c) => c.argv.join(' '));
    expect(argv).toEqual(['iptables-nft-save -t filter']);
    table.updateChains([dispatch, endpoint]);
    table.setHooks('FORWARD', hook);
    await table.apply();
    expect(kernel.runner.commands.map((c) => c.argv[0])).toEqual([
      'iptables-nft-save',
      'iptables-nft-restore',
    ]);
    // The primed read counts: mg-fw-mgA was already right in the kernel, so it is not rewritten.
    expect(kernel.restores()[0]?.input).not.toContain('mg-fw-mgA -');
    expect(kernel.restores()[0]?.input).toContain(':mg-FORWARD - [0:0]');
    // A refresh still reads the kernel again.
    await table.refresh();
    expect(kernel.runner.commands.filter((c) => c.argv[0] === 'iptables-nft-save')).toHaveLength(2);
  });

  test('prime counts our chains and our hook rules; foreign ones are not ours', async () => {
    const fresh = new Table({ runner: fakeKernel(FOREIGN).runner, name: 'filter', backend: 'nft' });
    expect(await fresh.prime()).toEqual({ ours: 0 });
    const [e0] = hashRules('mg-fw-mgA', endpoint.rules);
    const [h0] = hashRules('FORWARD', hook);
    const saved = FOREIGN.replace(':DOCKER', ':mg-fw-mgA - [0:0]\n:DOCKER')
      .replace('-A FORWARD -o', `-A FORWARD ${h0?.text}\n-A FORWARD -o`)
      .replace('COMMIT', `-A mg-fw-mgA ${e0?.text}\n:mg-FORWARD - [0:0]\nCOMMIT`);
    const restarted = new Table({ runner: fakeKernel(saved).runner, name: 'filter', backend: 'nft' });
    // mg-FORWARD, mg-fw-mgA and the hook rule in FORWARD.
    expect(await restarted.prime()).toEqual({ ours: 3 });
  });

  test('an additive apply writes missing or changed chains of ours, never hooks or deletions', async () => {
    const stale = `:mg-fw-old - [0:0]\n-A mg-fw-old ${hashRules('mg-fw-old', endpoint.rules)[0]?.text}`;
    const kernel = fakeKernel(FOREIGN.replace('COMMIT', `${stale}\nCOMMIT`));
    const table = new Table({ runner: kernel.runner, name: 'filter', backend: 'nft' });
    table.updateChains([dispatch, endpoint]);
    table.setHooks('FORWARD', hook);
    const result = await table.apply({ additive: true });
    const [e0] = hashRules('mg-fw-mgA', endpoint.rules);
    const input = kernel.restores()[0]?.input ?? '';
    expect(input).toContain(':mg-FORWARD - [0:0]');
    expect(input).toContain(`-A mg-fw-mgA ${e0?.text}`);
    // No hook yet, and the chain of ours nobody wants is left for a full apply.
    expect(input).not.toMatch(/FORWARD 1|-I |-D |-X |mg-fw-old/);
    expect(result.chainsWritten).toBe(2);
    // Written chains count as in the kernel: the additive apply again writes nothing.
    expect(await table.apply({ additive: true })).toEqual({ chainsWritten: 0, bytesWritten: 0 });
    // The full apply then writes only the hook and deletes the stale chain.
    await table.apply();
    const full = kernel.restores()[1]?.input ?? '';
    expect(full).not.toContain('-A mg-fw-mgA');
    expect(full).toContain('-I FORWARD 1');
    expect(full).toContain('-X mg-fw-old');
  });

  test('a failed prime leaves the read to the first apply', async () => {
    const kernel = fakeKernel(FOREIGN);
    const table = new Table({ runner: kernel.runner, name: 'filter', backend: 'nft' });
    kernel.runner.respond = () => ({ code: 1, stderr: 'Permission denied' });
    await expect(table.prime()).rejects.toThrow(
      /iptables-nft-save -t filter failed \(1\): Permission denied/,
    );
    kernel.runner.respond = (command) => (command.argv[0] === 'iptables-nft-save' ? { stdout: FOREIGN } : {});
    table.updateChains([dispatch]);
    expect(await table.apply()).toMatchObject({ chainsWritten: 1 });
    expect(kernel.runner.commands.map((c) => c.argv[0])).toEqual([
      'iptables-nft-save',
      'iptables-nft-save',
      'iptables-nft-restore',
    ]);
  });

  test('the periodic refresh re-reads the kernel and repairs what someone deleted, until stopped', async () => {
    const kernel = fakeKernel(FOREIGN);
    const errors: Error[] = [];
    const table = new Table({
      runner: kernel.runner,
      name: 'filter',
      backend: 'nft',
      refreshIntervalMs: 10,
      onRefreshError: (error) => errors.push(error),
    });
    table.updateChains([endpoint]);
    await table.apply();
    table.startPeriodicRefresh();
    try {
      // The kernel never shows our chain (someone keeps deleting it): every refresh rewrites it.
      await waitFor('two repairs', () => kernel.restores().length >= 3, 5_000);
    } finally {
      table.stop();
    }
    expect(kernel.restores()[2]?.input).toContain(':mg-fw-mgA - [0:0]');
    expect(errors).toEqual([]);
  });

  test('bad input throws naming what is wrong and changes nothing', async () => {
    const { table, kernel } = programmed();
    expect(() => table.updateChains([endpoint, { name: 'DOCKER', rules: [] }])).toThrow(
      /'DOCKER' is not ours/,
    );
    expect(() => table.setHooks('mg-FORWARD', hook)).toThrow(/hooks go into kernel chains/);
    expect(() => table.setHooks('INPUT', [{ match: '', action: ' ' }])).toThrow(
      /hook 1 in 'INPUT': action is empty/,
    );
    expect(() => table.removeChains(['KUBE-SERVICES'])).toThrow(/not ours/);
    expect(() => new Table({ runner: kernel.runner, name: 'security' as 'raw' })).toThrow(
      /'security' is not one of/,
    );
    await table.apply();
    expect(kernel.restores()[0]?.input).not.toContain('INPUT');
  });
});

describe('Tables sharing a BackendDetector', () => {
  const [e0] = hashRules('mg-fw-mgA', endpoint.rules);
  const natHook = [{ match: '', action: '-j mg-PREROUTING' }];
  const [n0] = hashRules('PREROUTING', natHook);
  /** A full nft save after a restart: our endpoint chain in filter, our hook in nat, kube's rules. */
  const FULL = [
    '# Generated by iptables-nft-save v1.8.9 (nf_tables)',
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':KUBE-SERVICES - [0:0]',
    `-A PREROUTING ${n0?.text}`,
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    'COMMIT',
    FOREIGN.replace('COMMIT', `:mg-fw-mgA - [0:0]\n-A mg-fw-mgA ${e0?.text}\nCOMMIT`).trimEnd(),
    '',
  ].join('\n');

  /** A host where only iptables-nft holds rules; `-t <table>` prints that table alone. */
  function nftHost(full: string) {
    const runner = new RecordingRunner((command) => {
      const [program, flag, table] = command.argv;
      if (program === 'iptables-legacy-save') return {};
      if (program === 'iptables-nft-save' && flag === undefined) return { stdout: full };
      if (program === 'iptables-nft-save' && flag === '-t' && table !== undefined) {
        const section = full.split(/^(?=\*)/m).find((part) => part.startsWith(`*${table}\n`));
        return { stdout: section ?? '' };
      }
      if (program === 'iptables-nft-restore') return {};
      return { code: 1, stderr: 'unexpected command' };
    });
    const ran = () => runner.commands.map((command) => command.argv.join(' '));
    return { runner, ran };
  }

  test('filter and nat primed together detect once and parse their table out of its save', async () => {
    const { runner, ran } = nftHost(FULL);
    const detector = new BackendDetector({ runner });
    const filter = new Table({ runner, name: 'filter', detector });
    const nat = new Table({ runner, name: 'nat', detector });
    expect(await Promise.all([nat.prime(), filter.prime()])).toEqual([{ ours: 1 }, { ours: 1 }]);
    expect(ran()).toEqual(['iptables-legacy-save', 'iptables-nft-save']);

    // What the save showed is what the tables know: the chain and hook already there are not rewritten.
    filter.updateChains([endpoint, dispatch]);
    nat.setHooks('PREROUTING', natHook);
    expect(await nat.apply()).toEqual({ chainsWritten: 0, bytesWritten: 0 });
    await filter.apply();
    const restore = runner.commands.at(-1);
    expect(restore?.argv[0]).toBe('iptables-nft-restore');
    expect(restore?.input).toContain(':mg-FORWARD - [0:0]');
    expect(restore?.input).not.toContain(':mg-fw-mgA');
    expect(ran()).toHaveLength(3);

    // After the prime, reads are per table again.
    await nat.refresh();
    expect(ran().at(-1)).toBe('iptables-nft-save -t nat');
  });

  test('a Table whose first read comes after the detection reads its table itself', async () => {
    const { runner, ran } = nftHost(FULL);
    const detector = new BackendDetector({ runner });
    const filter = new Table({ runner, name: 'filter', detector });
    await filter.prime();
    const nat = new Table({ runner, name: 'nat', detector });
    expect(await nat.prime()).toEqual({ ours: 1 });
    expect(ran()).toEqual(['iptables-legacy-save', 'iptables-nft-save', 'iptables-nft-save -t nat']);
  });

  test('a Table that is given no detector still detects for itself, from its first apply', async () => {
    const { runner, ran } = nftHost(FULL);
    const filter = new Table({ runner, name: 'filter' });
    filter.updateChains([endpoint]);
    expect(await filter.apply()).toEqual({ chainsWritten: 0, bytesWritten: 0 });
    expect(ran()).toEqual(['iptables-legacy-save', 'iptables-nft-save']);
  });

  test('a failed shared detection fails both primes and is run again by the next apply', async () => {
    const runner = new RecordingRunner((command) =>
      command.argv[0] === 'iptables' ? { stdout: 'iptables v1.8.9\n' } : {},
    );
    const detector = new BackendDetector({ runner });
    const filter = new Table({ runner, name: 'filter', detector });
    const nat = new Table({ runner, name: 'nat', detector });
    const primes = await Promise.allSettled([filter.prime(), nat.prime()]);
    expect(primes.map((prime) => prime.status)).toEqual(['rejected', 'rejected']);
    expect(String((primes[0] as PromiseRejectedResult).reason)).toMatch(/force one with the backend option/);
    expect(runner.commands).toHaveLength(3);

    runner.respond = (command) =>
      command.argv.join(' ') === 'iptables-legacy-save' ? { stdout: FOREIGN } : {};
    filter.updateChains([endpoint]);
    await filter.apply();
    expect(runner.commands.slice(3).map((command) => command.argv.join(' '))).toEqual([
      'iptables-legacy-save',
      'iptables-nft-save',
      'iptables-legacy-restore --noflush --wait 10',
    ]);
  });

  test('a detector for another runner, backend or IP version is refused', () => {
    const { runner } = nftHost(FULL);
    const detector = new BackendDetector({ runner, backend: 'nft' });
    expect(() => new Table({ runner: nftHost(FULL).runner, name: 'filter', detector })).toThrow(
      'Table filter: its detector runs on another runner',
    );
    expect(() => new Table({ runner, name: 'nat', detector, backend: 'legacy' })).toThrow(
      "Table nat: backend 'legacy' differs from its detector's 'nft'",
    );
    expect(() => new Table({ runner, name: 'nat', detector, ipVersion: 6 })).toThrow(
      "Table nat: ipVersion 6 differs from its detector's 4",
    );
    expect(new Table({ runner, name: 'nat', detector, backend: 'nft', ipVersion: 4 }).name).toBe('nat');
  });
});

describe('backend detection', () => {
  const detectBackend = async (runner: RecordingRunner, backend: IptablesBackendMode = 'auto') =>
    (await new BackendDetector({ runner, backend }).detect()).commands.backend;
  const runner = (outputs: Record<string, string>) =>
    new RecordingRunner((command) => {
      const stdout = outputs[command.argv.join(' ')];
      return stdout === undefined ? { code: 127, stderr: 'not found' } : { stdout };
    });

  test('prefers the backend that already holds rules, like felix', async () => {
    const kube = '*filter\n:INPUT ACCEPT\n-A INPUT -j KUBE-FIREWALL\nCOMMIT\n';
    expect(await detectBackend(runner({ 'iptables-legacy-save': kube, 'iptables-nft-save': '' }))).toBe(
      'legacy',
    );
    expect(await detectBackend(runner({ 'iptables-legacy-save': '', 'iptables-nft-save': kube }))).toBe(
      'nft',
    );
  });

  test('on an empty host follows iptables --version, and a forced mode is used as is', async () => {
    const nft = runner({
      'iptables-legacy-save': '',
      'iptables-nft-save': '',
      'iptables --version': 'iptables v1.8.9 (nf_tables)\n',
    });
    expect(await detectBackend(nft)).toBe('nft');
    const legacy = runner({ 'iptables --version': 'iptables v1.8.7 (legacy)\n' });
    expect(await detectBackend(legacy)).toBe('legacy');
    expect(await detectBackend(runner({}), 'legacy')).toBe('legacy');
    await expect(detectBackend(runner({}))).rejects.toThrow(/force one with the backend option/);
  });
});
