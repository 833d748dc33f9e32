import { parseSelector, selectorToString } from '@margay/api';
import { foldSelectors, namespaceLabelsSelector } from './selectors';

describe('foldSelectors (Calico: selector, notSelector and namespaceSelector of one side)', () => {
  test.each<[string, Parameters<typeof foldSelectors>[0], string | undefined, object]>([
    ['nothing: no set', {}, 'ns1', {}],
    [
      'selector in a namespaced policy: own namespace',
      { selector: 'app=="a"' },
      'ns1',
      {
        selector: 'projectcalico.org/namespace == "ns1" && app == "a"',
      },
    ],
    [
      'selector in a global policy: not scoped',
      { selector: "app=='a'" },
      undefined,
      { selector: 'app == "a"' },
    ],
    [
      'all() in a namespaced policy: the namespace',
      { selector: 'all()' },
      'ns1',
      {
        selector: 'projectcalico.org/namespace == "ns1"',
      },
    ],
    [
      'namespaceSelector overrides the own namespace',
      { namespaceSelector: 'team == "x"' },
      'ns1',
      {
        selector: 'pcns.team == "x"',
      },
    ],
    [
      'namespaceSelector all(): any namespace',
      { namespaceSelector: 'all()' },
      undefined,
      {
        selector: 'has(projectcalico.org/namespace)',
      },
    ],
    [
      'both: AND',
      { selector: 'a == "1" || b == "2"', namespaceSelector: 'team in {"x"}' },
      'ns1',
      {
        selector: 'pcns.team in {"x"} && (a == "1" || b == "2")',
      },
    ],
    [
      'notSelector alone: scoped positive side, unscoped negation',
      { notSelector: 'bad == "1"' },
      'ns1',
      {
        selector: 'projectcalico.org/namespace == "ns1"',
        notSelector: 'bad == "1"',
      },
    ],
    [
      'notSelector in a global policy',
      { notSelector: 'bad == "1"' },
      undefined,
      { notSelector: 'bad == "1"' },
    ],
  ])('%s', (_what, entity, namespace, expected) => {
    expect(foldSelectors(entity, namespace)).toEqual(expected);
  });

  test('namespace label rewriting reaches every label of the expression', () => {
    const rewritten = namespaceLabelsSelector(parseSelector('!(a == "1" && has(b)) || c not in {"x"}'));
    expect(selectorToString(rewritten)).toBe('!(pcns.a == "1" && has(pcns.b)) || pcns.c not in {"x"}');
  });

  test('a bad selector is an error', () => {
    expect(() => foldSelectors({ selector: 'a ==' }, undefined)).toThrow(/invalid selector/);
  });
});
