import { doc, problemsOf } from '../testing';
import { validateResource } from '../validate';
import { FELIX_DEFAULTS, felixConfigurationSpec } from './felix-configuration';

describe('FelixConfiguration', () => {
  test('fields stay unset when not given, so per-node objects only override what they set', () => {
    expect(
      validateResource(doc('FelixConfiguration', { ipipEnabled: true }, { name: 'node.worker-1' })).spec,
    ).toEqual({
      ipipEnabled: true,
    });
  });

  test('failsafe ports: protocol in any case, stored lower-case', () => {
    const spec = validateResource(
      doc('FelixConfiguration', {
        failsafeInboundHostPorts: [
          { protocol: 'TCP', port: 22 },
          { protocol: 'udp', port: 68, net: '10.0.0.0/8' },
        ],
      }),
    ).spec;
    expect(spec).toEqual({
      failsafeInboundHostPorts: [
        { protocol: 'tcp', port: 22 },
        { protocol: 'udp', port: 68, net: '10.0.0.0/8' },
      ],
    });
  });

  test('the defaults are themselves a valid configuration with Calico values', () => {
    expect(felixConfigurationSpec.parse(FELIX_DEFAULTS)).toEqual(FELIX_DEFAULTS);
    expect(FELIX_DEFAULTS).toMatchObject({
      iptablesRefreshInterval: '180s',
      vxlanPort: 4789,
      vxlanVNI: 4096,
      healthPort: 9099,
    });
    expect(FELIX_DEFAULTS.failsafeInboundHostPorts).toContainEqual({ protocol: 'tcp', port: 179 });
  });

  test.each([
    [{ vxlanVNI: 0 }, 'spec.vxlanVNI: must be an integer from 1 to 16777215 (got 0)'],
    [{ iptablesRefreshInterval: 90 }, 'spec.iptablesRefreshInterval: expected a string (got 90)'],
    [
      { failsafeInboundHostPorts: [{ protocol: 'icmp', port: 1 }] },
      'spec.failsafeInboundHostPorts[0].protocol: must be one of tcp, udp, sctp (got "icmp")',
    ],
    [{ failsafeInboundHostPorts: [{ port: 22 }] }, 'spec.failsafeInboundHostPorts[0].protocol: required'],
    [{ chainInsertMode: 'insert' }, 'spec.chainInsertMode: must be one of Insert, Append (got "insert")'],
    [{ bpfEnabled: true }, 'spec.bpfEnabled: margay has no eBPF dataplane; bpfEnabled must be false'],
    [{ ipipEnable: true }, 'spec: unknown field "ipipEnable" (did you mean "ipipEnabled"?)'],
  ])('%j → %s', (spec, problem) => {
    expect(problemsOf(doc('FelixConfiguration', spec, { name: 'default' }))).toEqual([problem]);
  });
});
