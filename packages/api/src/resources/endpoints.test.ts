import { doc, problemsOf } from '../testing';
import { validateResource } from '../validate';

describe('HostEndpoint', () => {
  test('an interface with expected IPs and named ports', () => {
    const spec = {
      node: 'worker-1',
      interfaceName: 'eth0',
      expectedIPs: ['10.0.0.5', 'FD00::5'],
      profiles: ['host-defaults'],
      ports: [{ name: 'ssh', protocol: 'TCP', port: 22 }],
    };
    expect(validateResource(doc('HostEndpoint', spec)).spec).toEqual({
      ...spec,
      expectedIPs: ['10.0.0.5', 'fd00::5'],
    });
  });

  test.each([
    [{ node: 'worker-1' }, 'spec: set interfaceName, expectedIPs or both'],
    [{ interfaceName: 'eth0' }, 'spec.node: required'],
    [{ node: 'worker-1', interfaceName: '' }, 'spec.interfaceName: must not be empty'],
    [
      { node: 'worker-1', expectedIPs: ['10.0.0.5/32'] },
      'spec.expectedIPs[0]: "10.0.0.5/32" is not an IPv4 or IPv6 address',
    ],
    [
      { node: 'w', interfaceName: '*', ports: [{ name: 'x', protocol: 'ICMP', port: 1 }] },
      'spec.ports[0].protocol: must be one of TCP, UDP, SCTP (got "ICMP")',
    ],
    [
      { node: 'w', interfaceName: '*', ports: [{ name: 'x', protocol: 'TCP', port: 'http' }] },
      'spec.ports[0].port: expected a number (got "http")',
    ],
  ])('%j → %s', (spec, problem) => {
    expect(problemsOf(doc('HostEndpoint', spec))).toEqual([problem]);
  });
});

describe('WorkloadEndpoint', () => {
  const endpoint = {
    orchestrator: 'k8s',
    workload: '',
    node: 'worker-1',
    containerID: 'abc123',
    pod: 'web-0',
    endpoint: 'eth0',
    serviceAccountName: 'default',
    ipNetworks: ['10.244.1.7/32'],
    profiles: ['kns.prod', 'ksa.prod.default'],
    interfaceName: 'mg1a2b3c4d5e6',
    mac: 'ee:ee:ee:ee:ee:ee',
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
  };

  test('a pod endpoint, namespaced (default namespace when none is given)', () => {
    const name = 'worker--1-k8s-web--0-eth0';
    const resource = validateResource(doc('WorkloadEndpoint', endpoint, { name }));
    expect(resource.spec).toEqual(endpoint);
    expect(resource.metadata).toEqual({ name, namespace: 'default' });
  });

  test('bare addresses in ipNetworks become host routes', () => {
    const spec = validateResource(
      doc('WorkloadEndpoint', { ...endpoint, ipNetworks: ['10.244.1.7', 'fd00::7'] }),
    ).spec;
    expect(spec).toMatchObject({ ipNetworks: ['10.244.1.7/32', 'fd00::7/128'] });
  });

  test.each([
    [{ ...endpoint, interfaceName: undefined }, 'spec.interfaceName: required'],
    [
      { ...endpoint, ipNetworks: ['10.244.1.7/24'] },
      'spec.ipNetworks[0]: "10.244.1.7/24" is not masked (host bits are set): did you mean 10.244.1.0/24?',
    ],
    [{ ...endpoint, ipv4Gateway: 'fe80::1' }, 'spec.ipv4Gateway: "fe80::1" is not an IPv4 address'],
    [{ ...endpoint, mac: 'eeee.eeee.eeee' }, 'spec.mac: "eeee.eeee.eeee" is not a MAC address'],
    [{ ...endpoint, ipNATs: [{ internalIP: '10.244.1.7' }] }, 'spec.ipNATs[0].externalIP: required'],
  ])('%j → %s', (spec, problem) => {
    expect(problemsOf(doc('WorkloadEndpoint', spec))).toEqual([problem]);
  });
});
