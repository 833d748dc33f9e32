import { mean, median, parseIperf3Json, parsePingOutput, percentile, summarizePing } from './stats';

const IPERF_OK = JSON.stringify({
  start: { connected: [{ local_host: '10.244.1.2' }] },
  intervals: [],
  end: {
    sum_sent: { bytes: 6_000_000_000, bits_per_second: 9.6e9, retransmits: 12 },
    sum_received: { bytes: 5_990_000_000, bits_per_second: 9.58e9 },
  },
});

const IPUTILS = `PING 10.244.2.10 (10.244.2.10) 56(84) bytes of data.
64 bytes from 10.244.2.10: icmp_seq=1 ttl=62 time=0.120 ms
64 bytes from 10.244.2.10: icmp_seq=2 ttl=62 time=0.080 ms
64 bytes from 10.244.2.10: icmp_seq=4 ttl=62 time=1.50 ms

--- 10.244.2.10 ping statistics ---
4 packets transmitted, 3 received, 25% packet loss, time 31ms
rtt min/avg/max/mdev = 0.080/0.566/1.500/0.660 ms
`;

const BUSYBOX = `PING 10.244.2.10 (10.244.2.10): 56 data bytes
64 bytes from 10.244.2.10: seq=0 ttl=62 time=2.345 ms
64 bytes from 10.244.2.10: seq=1 ttl=62 time=1.000 ms

--- 10.244.2.10 ping statistics ---
2 packets transmitted, 2 packets received, 0% packet loss
round-trip min/avg/max = 1.000/1.672/2.345 ms
`;

describe('parseIperf3Json', () => {
  it('reads the received throughput', () => {
    expect(parseIperf3Json(IPERF_OK)).toBe(9.58e9);
  });

  it("reports iperf3's own error", () => {
    expect(() =>
      parseIperf3Json(JSON.stringify({ error: 'unable to connect to server: Connection refused' })),
    ).toThrow('iperf3 failed: unable to connect to server: Connection refused');
  });

  it('rejects text that is not JSON, and JSON without the figure', () => {
    expect(() => parseIperf3Json('iperf3: error')).toThrow(/not JSON/);
    expect(() => parseIperf3Json('{"end":{}}')).toThrow(/sum_received\.bits_per_second/);
    expect(() => parseIperf3Json('{"end":{"sum_received":{"bits_per_second":0}}}')).toThrow(/positive/);
  });
});

describe('parsePingOutput', () => {
  it("reads iputils' replies and summary", () => {
    expect(parsePingOutput(IPUTILS)).toEqual({ sent: 4, received: 3, rttsMs: [0.12, 0.08, 1.5] });
  });

  it("reads busybox's replies and summary", () => {
    expect(parsePingOutput(BUSYBOX)).toEqual({ sent: 2, received: 2, rttsMs: [2.345, 1] });
  });

  it('fails without a summary, or when replies and summary disagree', () => {
    expect(() => parsePingOutput('64 bytes from x: time=1 ms')).toThrow(/no ping summary/);
    expect(() => parsePingOutput(IPUTILS.replace('3 received', '4 received'))).toThrow(
      /reported 4 replies but printed 3/,
    );
  });
});

describe('statistics', () => {
  it('median of odd and even counts', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(/no values/);
  });

  it('nearest-rank percentile', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile([...hundred, 1000], 99)).toBe(100);
    expect(percentile([5], 99)).toBe(5);
    expect(() => percentile([1], 0)).toThrow(/not in/);
  });

  it('summarizes a ping run (mean, p99, lost)', () => {
    const summary = summarizePing(parsePingOutput(IPUTILS));
    expect(summary.avgMs).toBeCloseTo(mean([0.12, 0.08, 1.5]), 9);
    expect(summary.p99Ms).toBe(1.5);
    expect(summary.lost).toBe(1);
    expect(() => summarizePing({ sent: 5, received: 0, rttsMs: [] })).toThrow('all 5 pings were lost');
  });
});
