import type { EndpointModel } from '../model';
import { renderDispatch } from './dispatch';
import { chainNamed, lines } from './testing';

const ep = (interfaceName: string): EndpointModel => ({
  interfaceName,
  tiers: [],
  profileIds: [],
  addresses: [],
});

describe('renderDispatch', () => {
  test('goto each endpoint chain by interface, then drop any other mg+ interface (fail closed)', () => {
    const chains = renderDispatch([ep('mgb'), ep('mga')]);
    expect(chains.map((c) => c.name)).toEqual(['mg-to-wl-dispatch', 'mg-from-wl-dispatch']);
    expect(lines(chains[0])).toEqual(['-o mga -g mg-tw-mga', '-o mgb -g mg-tw-mgb', '-o mg+ -j DROP']);
    expect(lines(chains[1])).toEqual(['-i mga -g mg-fw-mga', '-i mgb -g mg-fw-mgb', '-i mg+ -j DROP']);
  });

  test('no endpoints: every workload interface is dropped', () => {
    const chains = renderDispatch([]);
    expect(lines(chains[0])).toEqual(['-o mg+ -j DROP']);
    expect(lines(chains[1])).toEqual(['-i mg+ -j DROP']);
  });

  test('many endpoints: one level of prefix bins, each ending in DROP', () => {
    const names = Array.from({ length: 40 }, (_, i) => `mg${(i * 7919).toString(16).padStart(11, '0')}`);
    names.push('mgz0');
    const chains = renderDispatch(names.map(ep));
    const top = chainNamed(chains, 'mg-to-wl-dispatch');
    expect(lines(top).at(-1)).toBe('-o mg+ -j DROP');
    // Every endpoint is reachable: directly from the top chain or through exactly one bin.
    for (const name of names) {
      const direct = lines(top).includes(`-o ${name} -g mg-tw-${name}`);
      const bin = chains.find(
        (c) => c.name.startsWith('mg-to-wl-dispatch-') && lines(c).includes(`-o ${name} -g mg-tw-${name}`),
      );
      expect(direct || bin !== undefined).toBe(true);
      if (bin !== undefined) {
        expect(lines(top)).toContain(`-o mg${bin.name.slice(-1)}+ -g ${bin.name}`);
        expect(lines(bin).at(-1)).toBe('-j DROP');
      }
    }
    expect(lines(top)).toContain('-o mgz0 -g mg-tw-mgz0'); // a bin of one is a direct rule
    expect(top.rules.length).toBeLessThan(names.length / 2);
    for (const chain of chains) expect(chain.name.length).toBeLessThanOrEqual(28);
  });

  test('duplicates and foreign prefixes are rejected', () => {
    expect(() => renderDispatch([ep('mga'), ep('mga')])).toThrow(/two endpoints use interface mga/);
    expect(() => renderDispatch([ep('eth0')])).toThrow(/does not start with the workload prefix mg/);
    expect(lines(renderDispatch([ep('caliX')], { interfacePrefix: 'cali' })[0])).toEqual([
      '-o caliX -g mg-tw-caliX',
      '-o cali+ -j DROP',
    ]);
  });
});
