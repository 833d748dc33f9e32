import { ipBatch, parseCounters, TWO_NODES, twoNodeBaseScript } from './two-node';

describe('two-node VM topology scripts', () => {
  it('reads back the counters the ping script prints, ignoring other lines', () => {
    const output = [
      'counter node-a tunl0.tx_packets 3',
      '64 bytes from 10.244.2.10: seq=0 ttl=62',
      'counter node-b ipip-in 12',
      'counter node-b broken x',
    ].join('\n');
    expect(parseCounters(output)).toEqual(
      new Map([
        ['node-a tunl0.tx_packets', 3],
        ['node-b ipip-in', 12],
      ]),
    );
  });

  it('batches ip commands into one process, in a namespace when given', () => {
    expect(ipBatch(['link set lo up', 'route add 10.0.0.0/8 dev lo'], 'node-a')).toBe(
      "ip -n node-a -batch - <<'IP_BATCH'\nlink set lo up\nroute add 10.0.0.0/8 dev lo\nIP_BATCH",
    );
  });

  it('builds both nodes and refuses any other number of nodes', () => {
    const script = twoNodeBaseScript();
    for (const node of TWO_NODES) {
      expect(script).toContain(`netns add ${node.ns}`);
      expect(script).toContain(`addr add ${node.underlayIp}/24 dev eth0`);
      expect(script).toContain(`addr add ${node.podIp}/32 dev eth0`);
    }
    expect(() => twoNodeBaseScript([TWO_NODES[0]])).toThrow(/exactly two nodes, got 1/);
  });
});
