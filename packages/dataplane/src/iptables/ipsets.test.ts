import { RecordingRunner } from '../command';
import { IPSET_MAX_ELEMENTS, IpSetManager, parseIpsetSave } from './ipsets';

// `ipset save` after a restart: one of our sets, a temp set a crash left, and someone else's set.
const SAVED = `create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536
add KUBE-CLUSTER-IP 10.96.0.1,tcp:443
create mg4-s-pods hash:ip family inet hashsize 1024 maxelem ${IPSET_MAX_ELEMENTS} bucketsize 12 initval 0x1
add mg4-s-pods 10.0.0.1
add mg4-s-pods 10.0.0.2
create mgt-9-0 hash:net family inet hashsize 1024 maxelem 65536
`;

function fakeIpset(saved: string) {
  const runner = new RecordingRunner((command) => (command.argv[1] === 'save' ? { stdout: saved } : {}));
  const restores = () => runner.commands.filter((c) => c.argv[1] === 'restore').map((c) => c.input);
  return { runner, restores };
}

describe('IpSetManager', () => {
  test('after a restart writes only the delta against what ipset save shows', async () => {
    const { runner, restores } = fakeIpset(SAVED);
    const sets = new IpSetManager({ runner });
    sets.replaceMembers({ name: 'mg4-s-pods', type: 'hash:ip' }, ['10.0.0.2', '10.0.0.3']);
    sets.replaceMembers({ name: 'mg4-n-blocks', type: 'hash:net' }, ['10.1.0.0/16', '192.0.2.7/32']);
    const result = await sets.applyUpdates();
    expect(restores()).toEqual([
      [
        // The create line again (a no-op under -exist) lets ipset batch the set's changes.
        `create mg4-s-pods hash:ip family inet maxelem ${IPSET_MAX_ELEMENTS}`,
        'del mg4-s-pods 10.0.0.1',
        'add mg4-s-pods 10.0.0.3',
        `create mg4-n-blocks hash:net family inet maxelem ${IPSET_MAX_ELEMENTS}`,
        'add mg4-n-blocks 10.1.0.0/16',
        'add mg4-n-blocks 192.0.2.7',
        '',
      ].join('\n'),
    ]);
    expect(runner.commands.find((c) => c.argv[1] === 'restore')?.argv).toEqual([
      'ipset',
      'restore',
      '-exist',
    ]);
    expect(result.bytesWritten).toBe(Buffer.byteLength(restores()[0] ?? ''));
  });

  test('incremental updates write only the members that changed, and nothing when nothing did', async () => {
    const { runner, restores } = fakeIpset('');
    const sets = new IpSetManager({ runner });
    sets.replaceMembers({ name: 'mg4-s-a', type: 'hash:ip' }, ['10.0.0.1', '10.0.0.2']);
    sets.replaceMembers({ name: 'mg4-s-b', type: 'hash:ip' }, ['10.0.0.9']);
    await sets.applyUpdates();
    expect(await sets.applyUpdates()).toEqual({ bytesWritten: 0 });
    sets.addMembers('mg4-s-a', ['10.0.0.3']);
    sets.removeMembers('mg4-s-a', ['10.0.0.1']);
    await sets.applyUpdates();
    expect(restores()[1]).toBe(
      `create mg4-s-a hash:ip family inet maxelem ${IPSET_MAX_ELEMENTS}\ndel mg4-s-a 10.0.0.1\nadd mg4-s-a 10.0.0.3\n`,
    );
    expect(runner.commands.filter((c) => c.argv[1] === 'save')).toHaveLength(1);
  });

  test('a type change recreates the set; other metadata is swapped in through a full temporary copy', async () => {
    const { runner, restores } = fakeIpset(SAVED.replace(`maxelem ${IPSET_MAX_ELEMENTS}`, 'maxelem 65536'));
    const sets = new IpSetManager({ runner });
    sets.replaceMembers({ name: 'mg4-s-pods', type: 'hash:ip' }, ['10.0.0.1']);
    await sets.applyUpdates();
    const swap = (restores()[0] ?? '').split('\n');
    const temp = /^create (mgt-\S+) hash:ip /.exec(swap[0] ?? '')?.[1];
    expect(swap).toEqual([
      `create ${temp} hash:ip family inet maxelem ${IPSET_MAX_ELEMENTS}`,
      `add ${temp} 10.0.0.1`,
      `swap ${temp} mg4-s-pods`,
      `destroy ${temp}`,
      '',
    ]);
    sets.replaceMembers({ name: 'mg4-s-pods', type: 'hash:net' }, ['10.0.0.0/24']);
    await sets.applyUpdates();
    expect(restores()[1]).toBe(
      `destroy mg4-s-pods\ncreate mg4-s-pods hash:net family inet maxelem ${IPSET_MAX_ELEMENTS}\nadd mg4-s-pods 10.0.0.0/24\n`,
    );
  });

  test('applyDeletions destroys only unwanted sets of ours', async () => {
    const { runner, restores } = fakeIpset(SAVED);
    const sets = new IpSetManager({ runner });
    sets.replaceMembers({ name: 'mg4-s-pods', type: 'hash:ip' }, ['10.0.0.1', '10.0.0.2']);
    await sets.applyUpdates();
    await sets.applyDeletions();
    expect(restores()).toEqual(['destroy mgt-9-0\n']);
    sets.removeSet('mg4-s-pods');
    await sets.applyDeletions();
    expect(restores()[1]).toBe('destroy mg4-s-pods\n');
    expect(await sets.applyDeletions()).toEqual({ bytesWritten: 0 });
  });

  test('members are written in the text the kernel prints back', () => {
    const sets = new IpSetManager({ runner: new RecordingRunner() });
    sets.replaceMembers({ name: 'mg4-p-web', type: 'hash:ip,port' }, ['10.0.0.1,80', '10.0.0.1,SCTP:80']);
    sets.replaceMembers({ name: 'mg6-s-v6', type: 'hash:net' }, ['2001:DB8:0:0::1/128', '2001:db8:1::/48']);
    expect([...(sets.members('mg4-p-web') ?? [])]).toEqual(['10.0.0.1,tcp:80', '10.0.0.1,sctp:80']);
    expect([...(sets.members('mg6-s-v6') ?? [])]).toEqual(['2001:db8::1', '2001:db8:1::/48']);
  });

  test('bad input throws naming the set and member, and changes nothing', () => {
    const sets = new IpSetManager({ runner: new RecordingRunner() });
    expect(() => sets.replaceMembers({ name: 'KUBE-X', type: 'hash:ip' }, [])).toThrow(/'KUBE-X' is invalid/);
    expect(() => sets.replaceMembers({ name: `mg4-${'x'.repeat(28)}`, type: 'hash:ip' }, [])).toThrow(/31/);
    expect(() => sets.replaceMembers({ name: 'mg4-a', type: 'bitmap:port' as 'hash:ip' }, [])).toThrow(
      /type 'bitmap:port' is not one of/,
    );
    sets.replaceMembers({ name: 'mg4-a', type: 'hash:ip' }, ['10.0.0.1']);
    expect(() => sets.addMembers('mg4-a', ['10.0.0.2', 'nope'])).toThrow(
      /ipset 'mg4-a' member: 'nope' is not an IP address/,
    );
    expect(() => sets.addMembers('mg4-a', ['2001:db8::1'])).toThrow(/is IPv6 but the set is IPv4/);
    expect(() => sets.addMembers('mg4-b', ['10.0.0.2'])).toThrow(/'mg4-b' is not a desired set/);
    expect(() => sets.replaceMembers({ name: 'mg4-p', type: 'hash:ip,port' }, ['10.0.0.1,icmp:8'])).toThrow(
      /must be <address>,<tcp\|udp\|sctp>:<port/,
    );
    expect([...(sets.members('mg4-a') ?? [])]).toEqual(['10.0.0.1']);
  });

  test('a failed restore names the refused line and forces a re-read', async () => {
    const runner = new RecordingRunner((command) =>
      command.argv[1] === 'restore'
        ? { code: 1, stderr: 'ipset v7.17: Error in line 2: The set with the given name does not exist\n' }
        : { stdout: '' },
    );
    const sets = new IpSetManager({ runner });
    sets.replaceMembers({ name: 'mg4-a', type: 'hash:ip' }, ['10.0.0.1']);
    await expect(sets.applyUpdates()).rejects.toThrow(
      /ipset restore failed \(1\): .*; input line 2: add mg4-a 10.0.0.1/,
    );
    await expect(sets.applyUpdates()).rejects.toThrow(/ipset restore failed/);
    expect(runner.commands.filter((c) => c.argv[1] === 'save')).toHaveLength(2);
  });

  test('prime reads ipset save ahead; the first apply compares every desired set against it', async () => {
    const { runner, restores } = fakeIpset(SAVED);
    const sets = new IpSetManager({ runner });
    // Our sets only (KUBE-CLUSTER-IP is not ours): what felix's "fresh kernel" check reads.
    expect(await sets.prime()).toEqual({ ours: 2 });
    expect(await sets.prime()).toEqual({ ours: 2 }); // once read, priming again reads nothing
    expect(runner.commands.map((c) => c.argv.join(' '))).toEqual(['ipset save']);
    sets.replaceMembers({ name: 'mg4-s-pods', type: 'hash:ip' }, ['10.0.0.2', '10.0.0.3']);
    await sets.applyUpdates();
    expect(restores()).toEqual([
      `create mg4-s-pods hash:ip family inet maxelem ${IPSET_MAX_ELEMENTS}\ndel mg4-s-pods 10.0.0.1\nadd mg4-s-pods 10.0.0.3\n`,
    ]);
    expect(runner.commands.filter((c) => c.argv[1] === 'save')).toHaveLength(1);
    expect(await sets.applyDeletions()).toEqual({ bytesWritten: 'destroy mgt-9-0\n'.length });
  });

  test('prime on a kernel without sets of ours finds none', async () => {
    const { runner } = fakeIpset(
      'create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536\n',
    );
    expect(await new IpSetManager({ runner }).prime()).toEqual({ ours: 0 });
  });

  test('a set read back by applyDeletions is compared in full by the next applyUpdates', async () => {
    let saved = '';
    const runner = new RecordingRunner((command) => {
      if (command.argv[1] === 'save') return { stdout: saved };
      return command.input.startsWith('destroy')
        ? { code: 1, stderr: 'ipset v7.17: Error in line 1: busy\n' }
        : {};
    });
    const sets = new IpSetManager({ runner });
    sets.replaceMembers({ name: 'mg4-s-a', type: 'hash:ip' }, ['10.0.0.1']);
    await sets.applyUpdates();
    await sets.applyDeletions(); // nothing unwanted: no restore
    saved = `create mg4-s-x hash:ip family inet maxelem ${IPSET_MAX_ELEMENTS}\n`;
    sets.resync();
    await expect(sets.applyDeletions()).rejects.toThrow(/busy/);
    // The kernel lost mg4-s-a meanwhile (someone destroyed it): a full compare recreates it.
    saved = '';
    await sets.applyDeletions();
    await sets.applyUpdates();
    expect(
      runner.commands
        .filter((c) => c.argv[1] === 'restore')
        .map((c) => c.input)
        .at(-1),
    ).toBe(`create mg4-s-a hash:ip family inet maxelem ${IPSET_MAX_ELEMENTS}\nadd mg4-s-a 10.0.0.1\n`);
  });

  test('IPv4 members take a fast path with the same result as the general parse', () => {
    const sets = new IpSetManager({ runner: new RecordingRunner() });
    sets.replaceMembers({ name: 'mg4-s-a', type: 'hash:ip' }, ['10.0.0.1', '255.255.255.255', '0.0.0.0']);
    sets.replaceMembers({ name: 'mg4-n-b', type: 'hash:net' }, ['10.0.0.1/32', '10.0.0.2', '10.0.0.0/8']);
    expect([...(sets.members('mg4-s-a') ?? [])]).toEqual(['10.0.0.1', '255.255.255.255', '0.0.0.0']);
    expect([...(sets.members('mg4-n-b') ?? [])]).toEqual(['10.0.0.1', '10.0.0.2', '10.0.0.0/8']);
    // Not canonical or not an address: the general parse decides, and names the problem.
    expect(() => sets.addMembers('mg4-s-a', ['010.0.0.1'])).toThrow(/'010.0.0.1' is not an IP address/);
    expect(() => sets.addMembers('mg4-s-a', ['256.0.0.1'])).toThrow(/'256.0.0.1' is not an IP address/);
    expect(() => sets.addMembers('mg4-n-b', ['10.0.0.1/24'])).toThrow(/host bits/);
    expect(() => sets.addMembers('mg4-n-b', ['10.0.0.1/33'])).toThrow(/prefix length/);
  });

  test('parseIpsetSave keeps only our sets', () => {
    expect([...parseIpsetSave(SAVED).keys()]).toEqual(['mg4-s-pods', 'mgt-9-0']);
  });
});
