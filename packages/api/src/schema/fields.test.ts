import type { z } from 'zod';
import { asNumber, cidr, duration, interfaceAddress, net, port, protocol } from './fields';

function accepts(schema: z.ZodType, input: unknown) {
  const result = schema.safeParse(input);
  if (!result.success)
    throw new Error(`rejected ${JSON.stringify(input)}: ${result.error.issues[0]?.message}`);
  return result.data;
}

function rejection(schema: z.ZodType, input: unknown): string {
  const result = schema.safeParse(input);
  if (result.success) throw new Error(`accepted ${JSON.stringify(input)}`);
  return result.error.issues.map((i) => i.message).join('; ');
}

describe('AS numbers', () => {
  test.each([
    [65000, 65000],
    ['65000', 65000],
    [1, 1],
    [4294967295, 4294967295],
    ['1.10', 65546],
    ['0.1', 1],
    ['65535.65535', 4294967295],
  ])('%j is AS %d', (input, expected) => {
    expect(accepts(asNumber, input)).toBe(expected);
  });

  test.each([
    [0, 'from 1 to 4294967295'],
    [4294967296, 'from 1 to 4294967295'],
    [1.1, 'write asdot notation as a quoted string'],
    ['0.0', 'is not an AS number'],
    ['65536.1', 'is not an AS number'],
    ['1.2.3', 'is not an AS number'],
    ['as65000', 'is not an AS number'],
    [true, 'must be an AS number'],
  ])('%j is rejected (%s)', (input, problem) => {
    expect(rejection(asNumber, input)).toContain(problem);
  });
});

describe('ports', () => {
  test.each([
    [80, 80],
    ['443', 443],
    [65535, 65535],
    ['80:90', '80:90'],
    ['80:80', '80:80'],
    ['http', 'http'],
    ['metrics-2', 'metrics-2'],
  ])('%j is %j', (input, expected) => {
    expect(accepts(port, input)).toEqual(expected);
  });

  test.each([
    [0, 'from 1 to 65535'],
    [65536, 'from 1 to 65535'],
    [8.5, 'from 1 to 65535'],
    ['90:80', 'start after its end'],
    ['0:80', 'from 1 to 65535'],
    ['HTTP', 'port name'],
    ['my--port', 'port name'],
    ['-http', 'port name'],
    ['a-very-long-port-name', 'port name'],
    ['80-90', 'port name'],
  ])('%j is rejected (%s)', (input, problem) => {
    expect(rejection(port, input)).toContain(problem);
  });
});

describe('protocols', () => {
  test.each([
    ['TCP', 'TCP'],
    ['tcp', 'TCP'],
    ['icmpv6', 'ICMPv6'],
    ['UDPLite', 'UDPLite'],
    ['SCTP', 'SCTP'],
    [6, 6],
    ['17', 17],
    [255, 255],
  ])('%j is %j', (input, expected) => {
    expect(accepts(protocol, input)).toBe(expected);
  });

  test.each([
    ['GRE', 'must be one of TCP, UDP, ICMP, ICMPv6, SCTP, UDPLite or a number 1-255 (got "GRE")'],
    [0, 'from 1 to 255'],
    [256, 'from 1 to 255'],
    [null, 'must be a protocol'],
  ])('%j is rejected', (input, problem) => {
    expect(rejection(protocol, input)).toContain(problem);
  });
});

describe('networks', () => {
  test('pool CIDRs must be masked and are written canonically', () => {
    expect(accepts(cidr, 'FD00:0::/64')).toBe('fd00::/64');
    expect(rejection(cidr, '10.0.0.1/24')).toBe(
      '"10.0.0.1/24" is not masked (host bits are set): did you mean 10.0.0.0/24?',
    );
    expect(rejection(cidr, '10.0.0.1')).toContain('is not a CIDR');
  });

  test('rule nets also take bare addresses', () => {
    expect(accepts(net, '10.0.0.1')).toBe('10.0.0.1/32');
    expect(accepts(net, 'fd00::1')).toBe('fd00::1/128');
    expect(accepts(net, '10.0.0.0/8')).toBe('10.0.0.0/8');
    expect(rejection(net, '10.0.0.1/8')).toContain('did you mean 10.0.0.0/8?');
  });

  test('interface addresses keep host bits', () => {
    expect(accepts(interfaceAddress(4), '10.0.0.5/24')).toBe('10.0.0.5/24');
    expect(accepts(interfaceAddress(4), '10.0.0.5')).toBe('10.0.0.5');
    expect(rejection(interfaceAddress(4), 'fd00::5/64')).toContain('is not an IPv4 address');
    expect(rejection(interfaceAddress(6), '10.0.0.5/33')).toContain('is not an IPv6 address');
  });
});

describe('durations', () => {
  test.each(['90s', '1m30s', '500ms', '0s', '1.5h', '0'])('%s is a duration', (text) => {
    expect(accepts(duration, text)).toBe(text);
  });
  test.each(['90', '1 m', 's', '-1s', '1d'])('%s is not', (text) => {
    expect(rejection(duration, text)).toContain('is not a duration');
  });
});
