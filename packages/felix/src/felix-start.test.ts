// What felix spawns on the node while it starts: every command costs a fork of a large process on
// felix's main thread plus the child's CPU, competing with the datastore listing and the first
// restores. This pins the exact start sequence on an empty kernel, so an added spawn fails here.
import { type RecordedCommand, RecordingRunner } from '@margay/dataplane';
import type { Datastore, WatchEvent, WatchOptions } from '@margay/datastore';
import { waitFor } from '@margay/testkit';
import { Felix } from './felix';

/** A datastore whose watches the test drives by hand. */
class ScriptedWatches implements Pick<Datastore, 'watch'> {
  readonly handlers = new Map<string, WatchOptions>();

  watch(prefix: string, options: WatchOptions) {
    this.handlers.set(prefix, options);
    return { close: async () => {} };
  }

  emitAll(event: WatchEvent, except: string): void {
    for (const [prefix, options] of this.handlers) if (prefix !== except) options.onEvent(event);
  }
}

const AFFINITIES = '/margay/ipam/v2/host/node-a/';

/** A fresh node: no rules in either iptables backend (nft by `--version`), no sets, only lo. */
function emptyKernel(command: RecordedCommand) {
  switch (command.argv.join(' ')) {
    case 'ip -j link show':
      return { stdout: JSON.stringify([{ ifname: 'lo', flags: ['LOOPBACK', 'UP'] }]) };
    case 'iptables --version':
      return { stdout: 'iptables v1.8.9 (nf_tables)\n' };
    default:
      return {};
  }
}

describe('Felix start on an empty kernel', () => {
  test('spawns one interface read, one backend detection for both tables, one ipset read; then only writes', async () => {
    const datastore = new ScriptedWatches();
    const runner = new RecordingRunner(emptyKernel);
    const info: string[] = [];
    const felix = new Felix({
      datastore,
      nodeName: 'node-a',
      runner,
      interfacePollIntervalMs: 600_000,
      log: { info: (message) => info.push(message), warn: () => {} },
      policy: { debounceMs: 0 },
    });
    const ran = () => runner.commands.map((command) => command.argv.join(' '));
    await felix.start();
    try {
      await waitFor(
        'the primes to find a fresh kernel',
        () => info.some((message) => message.includes('no chains or sets of ours')),
        5_000,
      );
      // Both tables are primed from the detection's full save: no `iptables-nft-save -t <table>`.
      expect(ran()).toEqual([
        'ip -j link show',
        'iptables-legacy-save',
        'iptables-nft-save',
        'ipset save',
        'iptables --version',
      ]);
      const started = runner.commands.length;

      // Every policy input in sync (the IPAM affinities not: no route programming to tell apart).
      datastore.emitAll({ type: 'in-sync', revision: 1 }, AFFINITIES);
      await waitFor('the first policy apply', () => felix.policyStats()?.applies === 1, 5_000);
      const applied = runner.commands.slice(started);
      expect(applied.map((command) => command.argv.join(' '))).toEqual([
        'ipset restore -exist',
        'iptables-nft-restore --noflush --wait 10',
        'iptables-nft-restore --noflush --wait 10',
      ]);
      // One restore per table (in whichever order the policy manager writes them).
      expect(
        applied
          .slice(1)
          .map((command) => command.input.split('\n', 1)[0])
          .sort(),
      ).toEqual(['*filter', '*nat']);
    } finally {
      await felix.stop();
    }
  });
});
