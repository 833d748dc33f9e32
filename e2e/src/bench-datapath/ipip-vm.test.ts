import { IPIP_PATH, parseIpipOutput } from './ipip-vm';

const section = (
  variant: string,
  round: number,
  rtts: number[],
  bulk: string,
) => `@@ipip ${variant} ${round}@@
PING 10.244.2.10 (10.244.2.10): 56 data bytes
${rtts.map((t, i) => `64 bytes from 10.244.2.10: seq=${i} ttl=62 time=${t} ms`).join('\n')}

--- 10.244.2.10 ping statistics ---
${rtts.length} packets transmitted, ${rtts.length} packets received, 0% packet loss
${bulk}`;

describe('parseIpipOutput', () => {
  it('collects each variant across rounds: ping summaries and bulk throughput', () => {
    const output = [
      'setup noise',
      section('floor', 1, [1, 2], 'bulk 1000000 10.00 12.00'),
      section('margay', 1, [2, 4], 'bulk 1000000 12.50 14.50'),
      section('floor', 2, [3, 3], 'bulk failed 1\nbulk 1000000 15.00 16.00'),
      section('margay', 2, [1, 1], 'bulk 1000000 16.00 20.00'),
    ].join('\n');
    const [margay, floor] = parseIpipOutput(output);
    expect(margay!.path).toBe(IPIP_PATH);
    expect(margay!.variant).toBe('margay');
    expect(margay!.rounds).toEqual([
      { ping: 3, throughput: 4e6 },
      { ping: 1, throughput: 2e6 },
    ]);
    // The failed transfer is not a figure; the round keeps its ping.
    expect(floor!.rounds).toEqual([{ ping: 1.5, throughput: 4e6 }, { ping: 3 }]);
  });

  it('fails when rounds are out of order', () => {
    const output = [section('floor', 2, [1], 'bulk 1 1 2'), section('margay', 1, [1], 'bulk 1 1 2')].join(
      '\n',
    );
    expect(() => parseIpipOutput(output)).toThrow(/floor round 2 after 0 rounds/);
  });

  it('fails when a variant is missing', () => {
    expect(() => parseIpipOutput(section('floor', 1, [1], 'bulk 1 1 2'))).toThrow(/lacks a floor or margay/);
  });
});
