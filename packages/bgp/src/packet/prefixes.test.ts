import fc from 'fast-check';
import { Afi } from './constants';
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from './ip';
import {
  countPrefixes,
  encodedPrefixSize,
  prefixList,
  prefixStrings,
  readPrefixes,
  writePrefix,
} from './prefixes';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('IP address text forms', () => {
  test('IPv4', () => {
    expect(parseIpv4('192.0.2.1')).toBe(0xc0000201);
    expect(formatIpv4(0xc0000201)).toBe('192.0.2.1');
    for (const bad of ['192.0.2', '192.0.2.256', '01.2.3.4', ' 1.2.3.4', '1.2.3.4/32']) {
      expect(() => parseIpv4(bad)).toThrow(`"${bad}" is not an IPv4 address`);
    }
  });

  test('IPv6, printed per RFC 5952', () => {
    expect(Array.from(parseIpv6('2001:db8::1'))).toEqual([0x20010db8, 0, 0, 1]);
    expect(Array.from(parseIpv6('::ffff:192.0.2.1'))).toEqual([0, 0, 0xffff, 0xc0000201]);
    expect(formatIpv6(parseIpv6('2001:0DB8:0:0:1:0:0:1'))).toBe('2001:db8::1:0:0:1');
    expect(formatIpv6(parseIpv6('::'))).toBe('::');
    expect(formatIpv6(parseIpv6('1:2:3:4:5:6:7:8'))).toBe('1:2:3:4:5:6:7:8');
    expect(formatIpv6(parseIpv6('fe80::'))).toBe('fe80::');
    for (const bad of ['1::2::3', '1:2:3:4:5:6:7', '12345::', 'g::', '1:2:3:4:5:6:7:8:9', ':1::']) {
      expect(() => parseIpv6(bad)).toThrow(`"${bad}" is not an IPv6 address`);
    }
  });

  test('property: IPv6 text round-trips', () => {
    fc.assert(
      fc.property(fc.ipV6(), (text) => {
        const words = parseIpv6(text);
        expect(parseIpv6(formatIpv6(words))).toEqual(words);
      }),
    );
  });
});

describe('NLRI prefixes', () => {
  test('encode as a bit length and the fewest octets (RFC 4271 §4.3)', () => {
    const list = prefixList(Afi.Ipv4, ['10.0.1.0/24', '192.0.2.1/32', '0.0.0.0/0', '172.16.0.0/12']);
    const buf = Buffer.alloc(20);
    let o = 0;
    for (let i = 0; i < 4; i++) o = writePrefix(buf, o, list, i);
    expect(buf.subarray(0, o)).toEqual(hex('18 0a0001  20 c0000201  00  0c ac10'));
  });

  test('decoding clears host bits, which are irrelevant on the wire', () => {
    const buf = hex('17 0a0001  1a c0000281');
    expect(prefixStrings(readPrefixes(buf, 0, 2, Afi.Ipv4))).toEqual(['10.0.0.0/23', '192.0.2.128/26']);
  });

  test.each([
    ['a length above 32', '21 0a000001 00', 32],
    ['a prefix running past the field', '18 0a00', 32],
    ['an IPv6 length above 128', '81 20010db8', 128],
  ])('a field with %s is syntactically incorrect', (_name, bytes, maxBits) => {
    const buf = hex(bytes);
    expect(countPrefixes(buf, 0, buf.length, maxBits)).toBe(-1);
  });

  test('IPv6 prefixes use four words each', () => {
    const list = prefixList(Afi.Ipv6, ['2001:db8:1::/48', '::/0', '2001:db8::1/128']);
    expect(Array.from(list.words.subarray(0, 4))).toEqual([0x20010db8, 0x00010000, 0, 0]);
    const buf = Buffer.alloc(40);
    let o = 0;
    for (let i = 0; i < 3; i++) o = writePrefix(buf, o, list, i);
    expect(buf.subarray(0, o)).toEqual(hex('30 20010db80001  00  80 20010db8000000000000000000000001'));
    expect(prefixStrings(readPrefixes(buf, 0, 3, Afi.Ipv6))).toEqual([
      '2001:db8:1::/48',
      '::/0',
      '2001:db8::1/128',
    ]);
  });

  test('rejects text that is not a prefix', () => {
    expect(() => prefixList(Afi.Ipv4, ['10.0.0.0/33'])).toThrow('"10.0.0.0/33" is not an IPv4 prefix');
    expect(() => prefixList(Afi.Ipv6, ['2001:db8::'])).toThrow('"2001:db8::" is not an IPv6 prefix');
  });

  test('property: any prefix list survives write → count → read', () => {
    const v4 = fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 32 })).map(([a, l]) => `${a}/${l}`);
    const v6 = fc.tuple(fc.ipV6(), fc.integer({ min: 0, max: 128 })).map(([a, l]) => `${a}/${l}`);
    const lists = fc.oneof(
      fc.array(v4, { maxLength: 50 }).map((p) => prefixList(Afi.Ipv4, p)),
      fc.array(v6, { maxLength: 50 }).map((p) => prefixList(Afi.Ipv6, p)),
    );
    fc.assert(
      fc.property(lists, (list) => {
        const count = list.lengths.length;
        const size = Array.from(list.lengths, encodedPrefixSize).reduce((a, b) => a + b, 0);
        const buf = Buffer.alloc(size);
        let o = 0;
        for (let i = 0; i < count; i++) o = writePrefix(buf, o, list, i);
        expect(o).toBe(size);
        const maxBits = list.afi === Afi.Ipv4 ? 32 : 128;
        expect(countPrefixes(buf, 0, size, maxBits)).toBe(count);
        expect(readPrefixes(buf, 0, count, list.afi)).toEqual(list);
      }),
    );
  });
});
