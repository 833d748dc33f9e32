import { createHash } from 'node:crypto';
import { HASH_LENGTH, hashRules, ruleTargets, validateChain } from './rules';
import type { Rule } from './types';

const rules: Rule[] = [
  { match: '-m conntrack --ctstate ESTABLISHED,RELATED', action: '-j ACCEPT' },
  { match: '-i mgabc', action: '-g mg-tw-mgabc', comment: 'to "pod" a\nb' },
  { match: '', action: '-j DROP', comment: 'Unknown interface' },
];

describe('rule hashes', () => {
  test('are stable, 16 url-safe characters, and written as the first comment', () => {
    const first = hashRules('mg-FORWARD', rules);
    const again = hashRules('mg-FORWARD', rules);
    expect(again).toEqual(first);
    for (const rule of first) {
      expect(rule.hash).toMatch(new RegExp(`^[A-Za-z0-9_-]{${HASH_LENGTH}}$`));
      expect(rule.text.startsWith(`-m comment --comment "mg:${rule.hash}" `)).toBe(true);
    }
    expect(new Set(first.map((rule) => rule.hash)).size).toBe(3);
    expect(first[2]?.text).toBe(
      `-m comment --comment "mg:${first[2]?.hash}" -m comment --comment "Unknown interface" -j DROP`,
    );
  });

  test('are SHA-224 over chain, previous hash and rule text, so they stay the same across versions', () => {
    const [first, second] = hashRules('mg-x', [rules[0]!, rules[2]!]);
    const sha = (...parts: string[]) =>
      createHash('sha224').update(parts.join('\0')).digest('base64url').slice(0, HASH_LENGTH);
    expect(first?.hash).toBe(sha('mg-x', '', '-m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT'));
    expect(second?.hash).toBe(
      sha('mg-x', first?.hash ?? '', '-m comment --comment "Unknown interface" -j DROP'),
    );
  });

  test('chain a rule to its place: same rule in another chain or after another rule hashes differently', () => {
    const [a] = hashRules('mg-a', [rules[2]!]);
    const [b] = hashRules('mg-b', [rules[2]!]);
    const moved = hashRules('mg-a', [rules[0]!, rules[2]!]);
    expect(a?.hash).not.toBe(b?.hash);
    expect(moved[1]?.hash).not.toBe(a?.hash);
  });

  test('a changed rule changes its own hash and every later one, not earlier ones', () => {
    const before = hashRules('mg-x', rules);
    const changed = hashRules('mg-x', [rules[0]!, { ...rules[1]!, action: '-j DROP' }, rules[2]!]);
    expect(changed[0]?.hash).toBe(before[0]?.hash);
    expect(changed[1]?.hash).not.toBe(before[1]?.hash);
    expect(changed[2]?.hash).not.toBe(before[2]?.hash);
  });

  test('human comments lose quotes and newlines so the restore line stays one valid line', () => {
    const [, second] = hashRules('mg-x', rules);
    expect(second?.text).toContain(`--comment "to 'pod' a b"`);
    expect(second?.text).not.toContain('\n');
  });

  test('finds jump and goto targets', () => {
    expect(ruleTargets('-i mg+ -g mg-from-wl -m mark --mark 0x1 -j mg-pi-x')).toEqual([
      'mg-from-wl',
      'mg-pi-x',
    ]);
  });

  test('rejects chains that are not ours or malformed rules, naming where', () => {
    expect(() => validateChain({ name: 'KUBE-SERVICES', rules: [] })).toThrow(/'KUBE-SERVICES' is not ours/);
    expect(() => validateChain({ name: `mg-${'x'.repeat(30)}`, rules: [] })).toThrow(/1-28 characters/);
    expect(() => validateChain({ name: 'mg-a', rules: [{ match: '-s 10.0.0.1', action: '' }] })).toThrow(
      /chain 'mg-a' rule 1: action is empty/,
    );
    expect(() =>
      validateChain({ name: 'mg-a', rules: [{ match: 'x\n-A INPUT', action: '-j DROP' }] }),
    ).toThrow(/rule 1: match must be one line/);
    expect(() =>
      validateChain({ name: 'mg-a', rules: [rules[0]!, { match: '--comment "a', action: '-j DROP' }] }),
    ).toThrow(/rule 2: match has an unbalanced quote/);
    for (const match of ['-A INPUT -j DROP', '-s 10.0.0.1 --append INPUT']) {
      expect(() => validateChain({ name: 'mg-a', rules: [{ match, action: '-j DROP' }] })).toThrow(
        /chain 'mg-a' rule 1: must not contain -A\/--append/,
      );
    }
    // -A inside a word is not an append.
    expect(() =>
      validateChain({
        name: 'mg-a',
        rules: [{ match: '-m set --match-set mg4-A-x src', action: '-j DROP' }],
      }),
    ).not.toThrow();
  });
});
