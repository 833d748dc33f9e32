// Dispatch by interface: `mg-to-wl-dispatch` (by `-o`) and `mg-from-wl-dispatch` (by `-i`) goto
// the endpoint's chain. Like felix, larger sets are split one level by the character after the
// names' common prefix (`-o mga+ -g mg-to-wl-dispatch-a`), so a packet passes ~√n rules, not n.
// Every dispatch chain ends in DROP: an interface with our prefix that we do not (yet) know
// carries no traffic (fail closed).

import type { Chain, Rule } from '@margay/dataplane';
import type { EndpointModel } from '../model';
import { checkInterfaceName } from './endpoint';
import type { Direction } from './errors';
import { CHAIN, DEFAULT_INTERFACE_PREFIX, workloadChainName } from './names';

/** Up to this many endpoints, one flat chain. */
const FLAT_LIMIT = 16;

export interface DispatchOptions {
  /** Prefix of workload interfaces (default `mg`); anything else with it is dropped. */
  readonly interfacePrefix?: string;
}

export function renderDispatch(endpoints: readonly EndpointModel[], options: DispatchOptions = {}): Chain[] {
  const prefix = options.interfacePrefix ?? DEFAULT_INTERFACE_PREFIX;
  const names = endpoints.map((endpoint) => endpoint.interfaceName);
  const seen = new Set<string>();
  for (const name of names) {
    checkInterfaceName(name);
    if (seen.has(name)) throw new Error(`two endpoints use interface ${name}`);
    if (!name.startsWith(prefix)) {
      throw new Error(`endpoint interface ${name} does not start with the workload prefix ${prefix}`);
    }
    seen.add(name);
  }
  names.sort();
  return [
    ...dispatchChains('ingress', CHAIN.toWorkloadDispatch, names, prefix),
    ...dispatchChains('egress', CHAIN.fromWorkloadDispatch, names, prefix),
  ];
}

function dispatchChains(direction: Direction, chainName: string, names: string[], prefix: string): Chain[] {
  const flag = direction === 'ingress' ? '-o' : '-i';
  const direct = (name: string): Rule => ({
    match: `${flag} ${name}`,
    action: `-g ${workloadChainName(direction, name)}`,
  });
  const unknown: Rule = { match: `${flag} ${prefix}+`, action: '-j DROP', comment: 'unknown interface' };
  if (names.length <= FLAT_LIMIT) return [{ name: chainName, rules: [...names.map(direct), unknown] }];

  const common = commonPrefix(names);
  const bins = new Map<string, string[]>();
  const rules: Rule[] = [];
  for (const name of names) {
    const next = name[common.length];
    if (next === undefined)
      rules.push(direct(name)); // the common prefix itself
    else bins.set(next, [...(bins.get(next) ?? []), name]);
  }
  const children: Chain[] = [];
  for (const [character, binNames] of bins) {
    const [only] = binNames;
    if (binNames.length === 1 && only !== undefined) {
      rules.push(direct(only));
      continue;
    }
    const child = `${chainName}-${character}`;
    rules.push({ match: `${flag} ${common}${character}+`, action: `-g ${child}` });
    children.push({
      name: child,
      rules: [...binNames.map(direct), { match: '', action: '-j DROP', comment: 'unknown interface' }],
    });
  }
  return [{ name: chainName, rules: [...rules, unknown] }, ...children];
}

function commonPrefix(names: readonly string[]): string {
  const [first = ''] = names;
  let length = first.length;
  for (const name of names) {
    let i = 0;
    while (i < length && name[i] === first[i]) i++;
    length = i;
  }
  return first.slice(0, length);
}
