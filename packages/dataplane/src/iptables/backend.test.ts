import { RecordingRunner } from '../command';
import { BackendDetector } from './backend';

const KUBE = '*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j KUBE-FIREWALL\nCOMMIT\n';

/** A runner printing `outputs[argv]`; anything else is a missing program. */
function host(outputs: Record<string, string>) {
  return new RecordingRunner((command) => {
    const stdout = outputs[command.argv.join(' ')];
    return stdout === undefined ? { code: 127, stderr: 'not found' } : { stdout };
  });
}
const ran = (runner: RecordingRunner) => runner.commands.map((command) => command.argv.join(' '));

describe('BackendDetector', () => {
  test('callers waiting together share one detection and the chosen backend’s full save', async () => {
    const runner = host({ 'iptables-legacy-save': '', 'iptables-nft-save': KUBE });
    const detector = new BackendDetector({ runner });
    const [first, second] = await Promise.all([detector.detect(), detector.detect()]);
    expect(first).toEqual({
      commands: { backend: 'nft', save: 'iptables-nft-save', restore: 'iptables-nft-restore' },
      saved: KUBE,
    });
    expect(second).toEqual(first);
    expect(ran(runner)).toEqual(['iptables-legacy-save', 'iptables-nft-save']);

    // Later callers get the backend without running anything, and no save (it would be stale).
    expect(await detector.detect()).toEqual({ commands: first.commands, saved: null });
    expect(runner.commands).toHaveLength(2);
  });

  test('on an empty host --version decides, once, and that backend’s (empty) save is handed out', async () => {
    const runner = host({
      'iptables-legacy-save': '',
      'iptables-nft-save': '# Warning: iptables-legacy tables present\n',
      'iptables --version': 'iptables v1.8.9 (nf_tables)\n',
    });
    const detector = new BackendDetector({ runner });
    const results = await Promise.all([detector.detect(), detector.detect()]);
    expect(results.map((result) => [result.commands.backend, result.saved])).toEqual([
      ['nft', '# Warning: iptables-legacy tables present\n'],
      ['nft', '# Warning: iptables-legacy tables present\n'],
    ]);
    expect(ran(runner)).toEqual(['iptables-legacy-save', 'iptables-nft-save', 'iptables --version']);
  });

  test('a chosen backend whose save failed hands out no save', async () => {
    const runner = host({ 'iptables --version': 'iptables v1.8.7 (legacy)\n' });
    const detection = await new BackendDetector({ runner }).detect();
    expect(detection).toEqual({
      commands: { backend: 'legacy', save: 'iptables-legacy-save', restore: 'iptables-legacy-restore' },
      saved: null,
    });
  });

  test('a failed detection is not remembered: the next caller detects again', async () => {
    const runner = host({ 'iptables --version': 'iptables v1.8.9\n' });
    const detector = new BackendDetector({ runner });
    await expect(Promise.all([detector.detect(), detector.detect()])).rejects.toThrow(
      /cannot tell iptables-legacy from iptables-nft.*force one with the backend option/,
    );
    expect(runner.commands).toHaveLength(3);
    runner.respond = (command) => (command.argv[0] === 'iptables-legacy-save' ? { stdout: KUBE } : {});
    expect((await detector.detect()).commands.backend).toBe('legacy');
    expect(ran(runner).slice(3)).toEqual(['iptables-legacy-save', 'iptables-nft-save']);
  });

  test('a forced backend runs nothing; IPv6 uses ip6tables; bad options are named', async () => {
    const runner = host({});
    expect(await new BackendDetector({ runner, backend: 'legacy' }).detect()).toEqual({
      commands: { backend: 'legacy', save: 'iptables-legacy-save', restore: 'iptables-legacy-restore' },
      saved: null,
    });
    const v6 = host({ 'ip6tables-legacy-save': '', 'ip6tables-nft-save': KUBE });
    expect(await new BackendDetector({ runner: v6, ipVersion: 6 }).detect()).toMatchObject({
      commands: { backend: 'nft', save: 'ip6tables-nft-save', restore: 'ip6tables-nft-restore' },
    });
    expect(runner.commands).toEqual([]);
    expect(() => new BackendDetector({ runner, backend: 'iptables' as 'nft' })).toThrow(
      "iptables backend 'iptables' is not one of auto, legacy, nft",
    );
    expect(() => new BackendDetector({ runner, ipVersion: 5 as 4 })).toThrow(
      'iptables ipVersion 5 is not 4 or 6',
    );
  });
});
