import { cidrContains, formatCidr, formatIp, isMasked, networkOf, parseCidr, parseIp } from './net';

const cidrOf = (text: string) => {
  const cidr = parseCidr(text);
  if (typeof cidr === 'string') throw new Error(cidr);
  return cidr;
};

describe('IP addresses', () => {
  test.each([
    ['10.1.2.3', '10.1.2.3'],
    ['0.0.0.0', '0.0.0.0'],
    ['FD00:0:0::1', 'fd00::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['::', '::'],
    ['::ffff:10.0.0.1', '::ffff:a00:1'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:0:3:4:5:6:7:8', '1:0:3:4:5:6:7:8'],
  ])('%s is written %s', (text, canonical) => {
    const ip = parseIp(text);
    expect(ip).toBeDefined();
    expect(formatIp(ip!)).toBe(canonical);
  });

  test.each(['10.0.0', '10.0.0.256', '010.0.0.1', 'fe80::1%eth0', '1::2::3', 'x', ''])(
    '%s is not an address',
    (text) => {
      expect(parseIp(text)).toBeUndefined();
    },
  );
});

describe('CIDRs', () => {
  test('masking and containment', () => {
    expect(isMasked(cidrOf('10.0.0.0/24'))).toBe(true);
    expect(isMasked(cidrOf('10.0.0.1/24'))).toBe(false);
    expect(formatCidr(networkOf(cidrOf('10.0.0.77/26')))).toBe('10.0.0.64/26');
    expect(formatCidr(networkOf(cidrOf('fd00::1/64')))).toBe('fd00::/64');
    expect(cidrContains(cidrOf('10.0.0.0/16'), cidrOf('10.0.5.0/24'))).toBe(true);
    expect(cidrContains(cidrOf('10.0.5.0/24'), cidrOf('10.0.0.0/16'))).toBe(false);
    expect(cidrContains(cidrOf('10.0.0.0/16'), cidrOf('10.1.0.0/24'))).toBe(false);
    expect(cidrContains(cidrOf('0.0.0.0/0'), cidrOf('fd00::/8'))).toBe(false);
  });

  test.each([
    ['10.0.0.0', 'is not a CIDR'],
    ['10.0.0.0/33', 'prefix length must be 0-32'],
    ['fd00::/129', 'prefix length must be 0-128'],
    ['10.0.0.0/-1', 'prefix length'],
    ['10.0.0.0/ 8', 'prefix length'],
    ['10.0.0/8', '"10.0.0" is not an IP address'],
  ])('%s is rejected: %s', (text, problem) => {
    expect(parseCidr(text)).toEqual(expect.stringContaining(problem));
  });
});
