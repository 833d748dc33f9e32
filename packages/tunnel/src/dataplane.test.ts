import { type RecordedCommand, RecordingRunner } from '@margay/dataplane';
import { commandsAsScript, plannedCommands, TunnelDataplane } from './dataplane';
import { EMPTY_TUNNEL_STATE, type TunnelState } from './state';

const VXLAN_STATE: TunnelState = {
  ipip: undefined,
  vxlan: {
    name: 'vxlan.margay',
    vni: 4096,
    port: 4789,
    parent: 'eth0',
    local: '192.168.1.10',
    mac: '66:00:00:00:00:0a',
    mtu: 1450,
    address: '10.244.0.2',
  },
  routes: [
    { dst: '10.244.0.128/26', type: 'unicast', via: '10.244.0.130', dev: 'vxlan.margay', onlink: true },
  ],
  neighbours: [{ ip: '10.244.0.130', mac: '66:00:00:00:00:0c' }],
  fdb: [{ mac: '66:00:00:00:00:0c', dst: '192.168.2.10' }],
};

const IPIP_STATE: TunnelState = {
  ...EMPTY_TUNNEL_STATE,
  ipip: { name: 'tunl0', mtu: 1480, address: '10.244.0.1' },
  routes: [{ dst: '10.244.0.128/26', type: 'unicast', via: '192.168.2.10', dev: 'tunl0', onlink: true }],
};

/** A kernel as `ip -j` shows it: links by name, VXLAN entries, routes of proto 79. */
interface FakeKernel {
  links?: Record<string, object>;
  neighbours?: object[];
  fdb?: object[];
  routes?: object[];
  fail?: (argv: string) => { code: number; stderr: string } | undefined;
}

function runnerFor(kernel: FakeKernel): RecordingRunner {
  return new RecordingRunner((command: RecordedCommand) => {
    const argv = command.argv.join(' ');
    const failure = kernel.fail?.(argv);
    if (failure) return failure;
    const link = /^ip -j -d addr show dev (\S+)$/.exec(argv);
    if (link) {
      const shown = kernel.links?.[link[1]!];
      return shown
        ? { stdout: JSON.stringify([shown]) }
        : { code: 1, stderr: `Device "${link[1]}" does not exist.\n` };
    }
    if (argv.startsWith('ip -j -4 neigh show')) return { stdout: JSON.stringify(kernel.neighbours ?? []) };
    if (argv.startsWith('bridge -j fdb show')) return { stdout: JSON.stringify(kernel.fdb ?? []) };
    if (argv.startsWith('ip -j -4 route show')) return { stdout: JSON.stringify(kernel.routes ?? []) };
    if (argv.startsWith('ip -j -6 route show')) return { stdout: '[]' };
    return {};
  });
}

/** The writes, one string each; the route batch as `batch:` and its lines. */
function writes(runner: RecordingRunner): string[] {
  return runner.commands
    .filter((c) => !(c.argv[1] === '-j'))
    .map((c) =>
      c.argv.includes('-batch') ? `batch: ${c.input.trim().split('\n').join(' | ')}` : c.argv.join(' '),
    );
}

function vxlanLink(overrides: Record<string, unknown> = {}, data: Record<string, unknown> = {}): object {
  return {
    ifname: 'vxlan.margay',
    flags: ['BROADCAST', 'UP', 'LOWER_UP'],
    mtu: 1450,
    address: '66:00:00:00:00:0a',
    linkinfo: {
      info_kind: 'vxlan',
      info_data: { id: 4096, local: '192.168.1.10', link: 'eth0', port: 4789, ...data },
    },
    addr_info: [{ family: 'inet', local: '10.244.0.2', prefixlen: 32 }],
    ...overrides,
  };
}

const IN_SYNC_VXLAN: FakeKernel = {
  links: { 'vxlan.margay': vxlanLink() },
  neighbours: [{ dst: '10.244.0.130', lladdr: '66:00:00:00:00:0c', state: ['PERMANENT'] }],
  fdb: [
    { mac: '66:00:00:00:00:0c', dst: '192.168.2.10', flags: ['self'], state: 'permanent' },
    { mac: '33:33:00:00:00:01', flags: ['self'], state: 'permanent' },
  ],
  routes: [
    {
      dst: '10.244.0.128/26',
      gateway: '10.244.0.130',
      dev: 'vxlan.margay',
      protocol: '79',
      flags: ['onlink'],
    },
  ],
};

const ROUTE_LINE =
  'route replace 10.244.0.128/26 via 10.244.0.130 dev vxlan.margay onlink proto 79 table 254 metric 0';

describe('TunnelDataplane', () => {
  test('creates the VXLAN device, its address, ARP and FDB entries, then the routes, on an empty kernel', async () => {
    const runner = runnerFor({});
    const result = await new TunnelDataplane({ runner }).apply(VXLAN_STATE);
    expect(writes(runner)).toEqual([
      'ip link add name vxlan.margay address 66:00:00:00:00:0a mtu 1450 type vxlan id 4096 local 192.168.1.10 dev eth0 dstport 4789 nolearning',
      'ip addr add 10.244.0.2/32 dev vxlan.margay',
      'ip link set dev vxlan.margay up',
      'ip neigh replace 10.244.0.130 lladdr 66:00:00:00:00:0c dev vxlan.margay nud permanent',
      'bridge fdb replace 66:00:00:00:00:0c dev vxlan.margay dst 192.168.2.10 self permanent',
      `batch: ${ROUTE_LINE}`,
    ]);
    expect(result).toEqual({ commands: 6, failures: [] });
  });

  test('writes nothing when the kernel already holds the desired state', async () => {
    const runner = runnerFor(IN_SYNC_VXLAN);
    expect(await new TunnelDataplane({ runner }).apply(VXLAN_STATE)).toEqual({ commands: 0, failures: [] });
    expect(writes(runner)).toEqual([]);
  });

  test('recreates a VXLAN device whose VNI, port, local address or parent differ, rewriting every entry', async () => {
    for (const data of [{ id: 1 }, { port: 8472 }, { local: '192.168.1.99' }, { link: 'eth1' }]) {
      const runner = runnerFor({ ...IN_SYNC_VXLAN, links: { 'vxlan.margay': vxlanLink({}, data) } });
      await new TunnelDataplane({ runner }).apply(VXLAN_STATE);
      const commands = writes(runner);
      expect(commands[0]).toBe('ip link del dev vxlan.margay');
      expect(commands[1]).toMatch(
        /^ip link add name vxlan.margay .* id 4096 local 192.168.1.10 dev eth0 dstport 4789/,
      );
      expect(commands).toContain(
        'ip neigh replace 10.244.0.130 lladdr 66:00:00:00:00:0c dev vxlan.margay nud permanent',
      );
      expect(commands).toContain(
        'bridge fdb replace 66:00:00:00:00:0c dev vxlan.margay dst 192.168.2.10 self permanent',
      );
    }
  });

  test('fixes MAC, MTU, addresses and admin state in place', async () => {
    const link = vxlanLink({
      flags: ['BROADCAST'],
      mtu: 1500,
      address: '66:00:00:00:00:ff',
      addr_info: [
        { family: 'inet', local: '10.9.9.9', prefixlen: 24 },
        { family: 'inet6', local: 'fe80::1', prefixlen: 64 },
      ],
    });
    const runner = runnerFor({ ...IN_SYNC_VXLAN, links: { 'vxlan.margay': link } });
    await new TunnelDataplane({ runner }).apply(VXLAN_STATE);
    expect(writes(runner)).toEqual([
      'ip link set dev vxlan.margay address 66:00:00:00:00:0a',
      'ip link set dev vxlan.margay mtu 1450',
      'ip addr del 10.9.9.9/24 dev vxlan.margay',
      'ip addr add 10.244.0.2/32 dev vxlan.margay',
      'ip link set dev vxlan.margay up',
    ]);
  });

  test('removes stale ARP and FDB entries and corrects changed ones', async () => {
    const runner = runnerFor({
      ...IN_SYNC_VXLAN,
      neighbours: [
        { dst: '10.244.0.130', lladdr: '66:00:00:00:00:99' },
        { dst: '10.244.0.200', lladdr: '66:00:00:00:00:0d' },
      ],
      fdb: [
        { mac: '66:00:00:00:00:0c', dst: '192.168.2.99', flags: ['self'] },
        { mac: '66:00:00:00:00:0d', dst: '192.168.3.10', flags: ['self'] },
      ],
    });
    await new TunnelDataplane({ runner }).apply(VXLAN_STATE);
    expect(writes(runner)).toEqual([
      'ip neigh del 10.244.0.200 dev vxlan.margay',
      'ip neigh replace 10.244.0.130 lladdr 66:00:00:00:00:0c dev vxlan.margay nud permanent',
      'bridge fdb del 66:00:00:00:00:0c dev vxlan.margay dst 192.168.2.99 self',
      'bridge fdb del 66:00:00:00:00:0d dev vxlan.margay dst 192.168.3.10 self',
      'bridge fdb replace 66:00:00:00:00:0c dev vxlan.margay dst 192.168.2.10 self permanent',
    ]);
  });

  test('when no pool needs VXLAN: routes removed first, then the device (its entries go with it)', async () => {
    const runner = runnerFor(IN_SYNC_VXLAN);
    await new TunnelDataplane({ runner }).remove();
    expect(writes(runner)).toEqual([
      'batch: route del 10.244.0.128/26 proto 79 table 254 metric 0',
      'ip link del dev vxlan.margay',
    ]);
  });

  test('creates tunl0 (accepting that the ipip module already made it), MTU, address, up, routes', async () => {
    const runner = runnerFor({
      fail: (argv) =>
        argv.startsWith('ip link add name tunl0')
          ? { code: 2, stderr: 'RTNETLINK answers: File exists\n' }
          : undefined,
    });
    const result = await new TunnelDataplane({ runner }).apply(IPIP_STATE);
    expect(writes(runner)).toEqual([
      'ip link add name tunl0 type ipip',
      'ip link set dev tunl0 mtu 1480',
      'ip addr add 10.244.0.1/32 dev tunl0',
      'ip link set dev tunl0 up',
      'batch: route replace 10.244.0.128/26 via 192.168.2.10 dev tunl0 onlink proto 79 table 254 metric 0',
    ]);
    expect(result.failures).toEqual([]);
  });

  test('an existing fallback tunl0 is configured in place, not added', async () => {
    const tunl0 = {
      ifname: 'tunl0',
      flags: ['NOARP'],
      mtu: 1480,
      linkinfo: { info_kind: 'ipip' },
      addr_info: [],
    };
    const runner = runnerFor({ links: { tunl0 } });
    await new TunnelDataplane({ runner }).apply(IPIP_STATE);
    expect(writes(runner).slice(0, 2)).toEqual([
      'ip addr add 10.244.0.1/32 dev tunl0',
      'ip link set dev tunl0 up',
    ]);
  });

  test('when no pool needs IPIP, tunl0 is emptied, taken down and deleted once; a bare down tunl0 is left alone', async () => {
    const used = {
      ifname: 'tunl0',
      flags: ['UP'],
      mtu: 1480,
      linkinfo: { info_kind: 'ipip' },
      addr_info: [{ family: 'inet', local: '10.244.0.1', prefixlen: 32 }],
    };
    const runner = runnerFor({ links: { tunl0: used } });
    await new TunnelDataplane({ runner }).apply(EMPTY_TUNNEL_STATE);
    expect(writes(runner)).toEqual([
      'ip addr flush dev tunl0',
      'ip link set dev tunl0 down',
      'ip link del dev tunl0',
    ]);

    const bare = { ...used, flags: ['NOARP'], addr_info: [] };
    const again = runnerFor({ links: { tunl0: bare } });
    await new TunnelDataplane({ runner: again }).apply(EMPTY_TUNNEL_STATE);
    expect(writes(again)).toEqual([]);
  });

  test('reports failed commands and refused routes, and carries on', async () => {
    const runner = runnerFor({
      fail: (argv) =>
        argv.startsWith('bridge fdb replace')
          ? { code: 1, stderr: 'RTNETLINK answers: Invalid argument\n' }
          : argv.startsWith('ip -force -batch')
            ? { code: 1, stderr: 'Error: Nexthop has invalid gateway.\nCommand failed -:1\n' }
            : undefined,
    });
    const result = await new TunnelDataplane({ runner }).apply(VXLAN_STATE);
    expect(result.failures).toEqual([
      'bridge fdb replace 66:00:00:00:00:0c dev vxlan.margay dst 192.168.2.10 self permanent failed (1): RTNETLINK answers: Invalid argument',
      `route 10.244.0.128/26 not programmed (${ROUTE_LINE}): Error: Nexthop has invalid gateway.`,
    ]);
  });

  test('a kernel that cannot be read rejects the apply and writes nothing', async () => {
    const runner = runnerFor({
      fail: (argv) =>
        argv.startsWith('ip -j -d addr') ? { code: 1, stderr: 'Cannot open netlink socket\n' } : undefined,
    });
    await expect(new TunnelDataplane({ runner }).apply(VXLAN_STATE)).rejects.toThrow(
      'ip -j -d addr show dev tunl0 failed (1): Cannot open netlink socket',
    );
    expect(writes(runner)).toEqual([]);
  });

  test('a bad route is refused before anything is read or written', async () => {
    const runner = runnerFor({});
    const bad: TunnelState = {
      ...VXLAN_STATE,
      routes: [{ dst: '10.244.0.0/99', type: 'unicast', via: '1.2.3.4' }],
    };
    await expect(new TunnelDataplane({ runner }).apply(bad)).rejects.toThrow('10.244.0.0/99');
    expect(runner.commands).toEqual([]);
  });
});

describe('plannedCommands', () => {
  test('are exactly the writes the manager makes on an empty kernel', async () => {
    const runner = runnerFor({});
    await new TunnelDataplane({ runner }).apply(IPIP_STATE);
    const planned = await plannedCommands(IPIP_STATE);
    const written = runner.commands.filter((c) => c.argv[1] !== '-j');
    expect(planned.map((c) => ({ argv: c.argv, input: c.input }))).toEqual(written);
    expect(planned[0]).toMatchObject({
      argv: ['ip', 'link', 'add', 'name', 'tunl0', 'type', 'ipip'],
      tolerate: 'File exists',
    });
  });

  test('as a shell script: set -e, the batch as a here-document, tolerated failures accepted by message', async () => {
    const script = commandsAsScript(await plannedCommands(IPIP_STATE));
    expect(script).toBe(
      [
        'set -e',
        'out=$(ip link add name tunl0 type ipip 2>&1) || case $out in *\'File exists\'*) ;; *) echo "$out" >&2; exit 1 ;; esac',
        'ip link set dev tunl0 mtu 1480',
        'out=$(ip addr add 10.244.0.1/32 dev tunl0 2>&1) || case $out in *\'File exists\'*) ;; *) echo "$out" >&2; exit 1 ;; esac',
        'ip link set dev tunl0 up',
        "ip -force -batch - <<'EOF'",
        'route replace 10.244.0.128/26 via 192.168.2.10 dev tunl0 onlink proto 79 table 254 metric 0',
        'EOF',
        '',
      ].join('\n'),
    );
  });
});
