import { parseSockperfOutput } from './sockperf';

// `sockperf ping-pong -i … -t 2 --full-rtt --no-rdtsc` (3.7), stdout and stderr together, colours kept.
const RTT_OUTPUT = `sockperf: \x1b[2;35m== version #3.7-no.git == \x1b[0m
sockperf[CLIENT] send on:sockperf: using recvfrom() to block on socket(s)

[ 0] IP = 198.18.0.2      PORT = 11111 # UDP
sockperf: Warmup stage (sending a few dummy messages)...
sockperf: Starting test...
sockperf: Test end (interrupted by timer)
sockperf: Test ended
sockperf: [Total Run] RunTime=2.000 sec; Warm up time=400 msec; SentMessages=112834; ReceivedMessages=112833
sockperf: ========= Printing statistics for Server No: 0
sockperf: [Valid Duration] RunTime=1.550 sec; SentMessages=87048; ReceivedMessages=87048
sockperf: \x1b[2;35m====> avg-rtt=17.785 (std-dev=44.199)\x1b[0m
sockperf: # dropped messages = 2; # duplicated messages = 0; # out-of-order messages = 0
sockperf: Summary: Round trip is 17.785 usec
sockperf: \x1b[2;35mTotal 87048 observations\x1b[0m; each percentile contains 870.48 observations
sockperf: ---> <MAX> observation = 2055.394
sockperf: ---> percentile 99.999 = 1538.410
sockperf: ---> percentile 99.990 =  662.563
sockperf: ---> percentile 99.900 =   42.532
sockperf: ---> percentile 99.000 =   23.414
sockperf: ---> percentile 90.000 =   17.636
sockperf: ---> percentile 75.000 =   16.864
sockperf: ---> percentile 50.000 =   16.444
sockperf: ---> percentile 25.000 =   16.043
sockperf: ---> <MIN> observation =   15.693
`;

describe('parseSockperfOutput', () => {
  it('reads the lower quartile, median, mean and p99 round trip, the observations and the drops', () => {
    expect(parseSockperfOutput(RTT_OUTPUT)).toEqual({
      p25Us: 16.043,
      medianUs: 16.444,
      avgUs: 17.785,
      p99Us: 23.414,
      observations: 87048,
      dropped: 2,
    });
  });

  it('refuses one-way latency (a run without --full-rtt)', () => {
    const oneWay = RTT_OUTPUT.replace('avg-rtt=', 'avg-latency=');
    expect(() => parseSockperfOutput(oneWay)).toThrow(/--full-rtt/);
  });

  it('names what is missing when sockperf had no valid window', () => {
    const empty = `sockperf: [Total Run] RunTime=1.000 sec; Warm up time=400 msec; SentMessages=61898; ReceivedMessages=61897
sockperf: ========= Printing statistics for Server No: 0
sockperf: No valid observations found. Try tune parameters: --time/--mps/--reply-every
`;
    expect(() => parseSockperfOutput(empty)).toThrow(
      /no lower quartile \(percentile 25\.000\).*No valid observations/s,
    );
  });
});
