import { doc, problemsOf } from '../testing';
import { validateResource } from '../validate';

const specOf = (spec: unknown) => validateResource(doc('IPPool', spec)).spec;

describe('IPPool', () => {
  test('Calico defaults are applied (IPv4)', () => {
    expect(specOf({ cidr: '10.244.0.0/16' })).toEqual({
      cidr: '10.244.0.0/16',
      blockSize: 26,
      ipipMode: 'Never',
      vxlanMode: 'Never',
      natOutgoing: false,
      disabled: false,
      disableBGPExport: false,
      nodeSelector: 'all()',
      allowedUses: ['Workload', 'Tunnel'],
      assignmentMode: 'Automatic',
    });
  });

  test('IPv6 pools default to /122 blocks and are written canonically', () => {
    expect(specOf({ cidr: 'FD00:10:0::/48' })).toMatchObject({ cidr: 'fd00:10::/48', blockSize: 122 });
  });

  test('given values are kept', () => {
    const spec = {
      cidr: '192.168.0.0/16',
      blockSize: 24,
      ipipMode: 'CrossSubnet',
      natOutgoing: true,
      disabled: true,
      disableBGPExport: true,
      nodeSelector: 'zone == "a"',
      namespaceSelector: 'team in {"x"}',
      allowedUses: ['Workload'],
      assignmentMode: 'Manual',
    };
    expect(specOf(spec)).toEqual({ ...spec, vxlanMode: 'Never' });
  });

  test.each([
    [
      { cidr: '10.0.0.0/33' },
      'spec.cidr: "10.0.0.0/33" is not a CIDR: the prefix length must be 0-32 for IPv4',
    ],
    [
      { cidr: '10.0.0.1/24' },
      'spec.cidr: "10.0.0.1/24" is not masked (host bits are set): did you mean 10.0.0.0/24?',
    ],
    [{ cidr: '10.0.0.0' }, 'spec.cidr: "10.0.0.0" is not a CIDR (expected address/prefix-length)'],
    [{ cidr: 42 }, 'spec.cidr: expected a string (got 42)'],
    [{ cidr: '169.254.0.0/24' }, 'spec.cidr: must not overlap the link-local range 169.254.0.0/16'],
    [{ cidr: '128.0.0.0/1' }, 'spec.cidr: must not overlap the link-local range 169.254.0.0/16'],
    [{ cidr: 'fe80::/64' }, 'spec.cidr: must not overlap the link-local range fe80::/10'],
    [
      { cidr: '10.0.0.0/16', ipipMode: 'Sometimes' },
      'spec.ipipMode: must be one of Never, Always, CrossSubnet (got "Sometimes")',
    ],
    [
      { cidr: '10.0.0.0/16', vxlanMode: 'always' },
      'spec.vxlanMode: must be one of Never, Always, CrossSubnet (got "always")',
    ],
    [
      { cidr: '10.0.0.0/16', ipipMode: 'Always', vxlanMode: 'CrossSubnet' },
      'spec.vxlanMode: a pool uses one encapsulation: ipipMode and vxlanMode cannot both be enabled',
    ],
    [
      { cidr: 'fd00::/48', ipipMode: 'Always' },
      'spec.ipipMode: IPIP is IPv4 only; use Never for an IPv6 pool',
    ],
    [
      { cidr: '10.0.0.0/16', blockSize: 19 },
      'spec.blockSize: must be an integer from 20 to 32 for an IPv4 pool (got 19)',
    ],
    [
      { cidr: '10.0.0.0/16', blockSize: 33 },
      'spec.blockSize: must be an integer from 20 to 32 for an IPv4 pool (got 33)',
    ],
    [
      { cidr: 'fd00::/48', blockSize: 26 },
      'spec.blockSize: must be an integer from 116 to 128 for an IPv6 pool (got 26)',
    ],
    [
      { cidr: '10.0.0.0/24', blockSize: 20 },
      'spec.blockSize: a /20 block is larger than the /24 pool; use 24 or more',
    ],
    [
      { cidr: '10.0.0.0/16', blockSize: 26.5 },
      'spec.blockSize: must be an integer from 20 to 32 for an IPv4 pool (got 26.5)',
    ],
    [
      { cidr: '10.0.0.0/16', nodeSelector: 'zone = "a"' },
      'spec.nodeSelector: invalid selector "zone = \\"a\\"": unexpected "=" after label "zone", expected ==, !=, in, not in, starts with, ends with or contains at position 5',
    ],
    [
      { cidr: '10.0.0.0/16', allowedUses: ['Workloads'] },
      'spec.allowedUses[0]: must be one of Workload, Tunnel, LoadBalancer (got "Workloads")',
    ],
    [{ cidr: '10.0.0.0/16', natOutgoing: 'true' }, 'spec.natOutgoing: expected true or false (got "true")'],
    [
      { cidr: '10.0.0.0/16', ipipmode: 'Always' },
      'spec: unknown field "ipipmode" (did you mean "ipipMode"?)',
    ],
  ])('%j → %s', (spec, problem) => {
    expect(problemsOf(doc('IPPool', spec))).toEqual([problem]);
  });

  test('a /32 block in a /32 pool is fine', () => {
    expect(specOf({ cidr: '10.0.0.7/32', blockSize: 32 })).toMatchObject({ blockSize: 32 });
  });
});
