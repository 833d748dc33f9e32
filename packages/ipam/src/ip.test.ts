import { isIPv6 } from 'node:net';
import fc from 'fast-check';
import { cidrContains, cidrContainsIp, cidrSize, formatCidr, formatIp, parseCidr, parseIp } from './ip';

describe('addresses', () => {
  test('IPv4 and IPv6 addresses parse to numbers and format back', () => {
    expect(parseIp('10.1.2.3')).toEqual({ family: 4, value: 0x0a010203n });
    expect(formatIp(4, 0x0a010203n)).toBe('10.1.2.3');
    expect(parseIp('fd00::1')).toEqual({ family: 6, value: (0xfd00n << 112n) | 1n });
    expect(parseIp('::ffff:10.0.0.1')?.value).toBe((0xffffn << 32n) | 0x0a000001n);
    expect(formatIp(6, 0n)).toBe('::');
    expect(formatIp(6, (0xfd00n << 112n) | (1n << 64n))).toBe('fd00:0:0:1::');
    expect(parseIp('10.0.0.256')).toBeUndefined();
    expect(parseIp('fe80::1%eth0')).toBeUndefined();
  });

  test('IPv6 formatting is canonical (RFC 5952) and round-trips', () => {
    const groups = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), {
      minLength: 8,
      maxLength: 8,
    });
    fc.assert(
      fc.property(groups, (words) => {
        const value = words.reduce((acc, word) => (acc << 16n) | BigInt(word), 0n);
        const text = formatIp(6, value);
        expect(isIPv6(text)).toBe(true);
        expect(text).not.toMatch(/(^|:)0[0-9a-f]/); // no leading zeros
        expect(text.split('::').length).toBeLessThanOrEqual(2);
        expect(parseIp(text)?.value).toBe(value);
      }),
    );
  });

  test('CIDRs are masked, sized and compared', () => {
    const pool = parseCidr('10.1.0.0/16');
    expect(formatCidr(parseCidr('10.1.2.3/24'))).toBe('10.1.2.0/24');
    expect(cidrSize(parseCidr('fd00::/122'))).toBe(64n);
    expect(cidrContains(pool, parseCidr('10.1.255.192/26'))).toBe(true);
    expect(cidrContains(pool, parseCidr('10.2.0.0/26'))).toBe(false);
    expect(cidrContains(pool, parseCidr('10.0.0.0/8'))).toBe(false);
    expect(cidrContainsIp(pool, parseIp('fd00::1')!)).toBe(false);
    expect(() => parseCidr('10.0.0.0/33')).toThrow('"10.0.0.0/33": the prefix length must be 0-32 for IPv4');
    expect(() => parseCidr('10.0.0.0')).toThrow('"10.0.0.0" is not a CIDR');
  });
});
