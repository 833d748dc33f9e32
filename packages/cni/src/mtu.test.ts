import { type IPPool, validateResource } from '@margay/api';
import { encapsulationOverhead } from './mtu';

function pool(spec: Record<string, unknown>): IPPool {
  return validateResource({
    apiVersion: 'margay.io/v1',
    kind: 'IPPool',
    metadata: { name: 'pool' },
    spec: { cidr: '10.0.0.0/16', ...spec },
  }) as IPPool;
}

describe('encapsulationOverhead', () => {
  it.each([
    [{}, 4, 0],
    [{ ipipMode: 'Never', vxlanMode: 'Never' }, 4, 0],
    [{ ipipMode: 'Always' }, 4, 20],
    [{ ipipMode: 'CrossSubnet' }, 4, 20],
    [{ vxlanMode: 'Always' }, 4, 50],
    [{ vxlanMode: 'CrossSubnet' }, 4, 50],
    [{ cidr: 'fd00::/64', vxlanMode: 'Always' }, 6, 70],
    [{ cidr: 'fd00::/64', vxlanMode: 'CrossSubnet' }, 6, 70],
  ] as const)('a pool with %j costs IPv%i packets %i bytes', (spec, family, overhead) => {
    expect(encapsulationOverhead(pool(spec), family)).toBe(overhead);
  });

  it('costs nothing when the pool is gone', () => {
    expect(encapsulationOverhead(undefined, 4)).toBe(0);
  });
});
