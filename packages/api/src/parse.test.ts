import { ResourceValidationError } from './errors';
import { parseResources } from './parse';

function parseError(text: string, source = 'input.yaml'): ResourceValidationError {
  try {
    parseResources(text, source);
  } catch (error) {
    if (error instanceof ResourceValidationError) return error;
    throw error;
  }
  throw new Error('expected the input to be rejected');
}

// Documents as operators write them for Calico (calicoctl apply -f), unchanged.
const CALICO_CLUSTER = `
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: default-ipv4-ippool
spec:
  cidr: 192.168.0.0/16
  ipipMode: CrossSubnet
  natOutgoing: true
  nodeSelector: all()
---
apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: default-ipv6-ippool
spec:
  cidr: fd5f:1801:cafe::/48
  vxlanMode: Never
  natOutgoing: false
  blockSize: 122
---
apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  logSeverityScreen: Info
  nodeToNodeMeshEnabled: false
  asNumber: 63400
  serviceClusterIPs:
  - cidr: 10.96.0.0/12
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: rack1-tor
spec:
  peerIP: 192.20.30.40
  asNumber: 64567
  nodeSelector: rack == 'rack-1'
---
apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: peer-with-route-reflectors
spec:
  nodeSelector: all()
  peerSelector: route-reflector == 'true'
---
apiVersion: projectcalico.org/v3
kind: FelixConfiguration
metadata:
  name: default
spec:
  bpfLogLevel: ""
  floatingIPs: Disabled
  logSeverityScreen: Info
  reportingInterval: 0s
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata:
  name: allow-ping
spec:
  selector: all()
  order: 200
  ingress:
  - action: Allow
    protocol: ICMP
    icmp:
      type: 8
  - action: Allow
    protocol: ICMPv6
    icmp:
      type: 128
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: allow-tcp-6379
  namespace: production
spec:
  selector: role == 'database'
  types:
  - Ingress
  - Egress
  ingress:
  - action: Log
    protocol: TCP
    source:
      selector: role == 'frontend'
  - action: Deny
    protocol: TCP
    source:
      selector: role == 'frontend'
  - action: Allow
    protocol: TCP
    source:
      selector: role == 'frontend'
    destination:
      ports:
      - 6379
  egress:
  - action: Allow
---
apiVersion: projectcalico.org/v3
kind: HostEndpoint
metadata:
  name: some.name
  labels:
    type: production
spec:
  interfaceName: eth0
  node: myhost
  expectedIPs:
  - 192.168.0.1
  - 192.168.0.2
  profiles:
  - profile1
  - profile2
  ports:
  - name: some-port
    port: 1234
    protocol: TCP
  - name: another-port
    port: 5432
    protocol: UDP
---
apiVersion: projectcalico.org/v3
kind: Profile
metadata:
  name: dev-apps
spec:
  ingress:
  - action: Deny
    source:
      nets:
      - 10.0.20.0/24
  - action: Allow
    source:
      selector: stage == 'development'
  egress:
  - action: Allow
  labelsToApply:
    stage: development
`;

describe('parseResources', () => {
  test('realistic Calico v3 documents apply unchanged', () => {
    const resources = parseResources(CALICO_CLUSTER, 'calico.yaml');
    expect(resources.map((r) => `${r.kind}/${r.metadata.name}`)).toEqual([
      'IPPool/default-ipv4-ippool',
      'IPPool/default-ipv6-ippool',
      'BGPConfiguration/default',
      'BGPPeer/rack1-tor',
      'BGPPeer/peer-with-route-reflectors',
      'FelixConfiguration/default',
      'GlobalNetworkPolicy/allow-ping',
      'NetworkPolicy/allow-tcp-6379',
      'HostEndpoint/some.name',
      'Profile/dev-apps',
    ]);
    expect(resources.every((r) => r.apiVersion === 'margay.io/v1')).toBe(true);
    expect(resources[0]!.spec).toMatchObject({
      cidr: '192.168.0.0/16',
      ipipMode: 'CrossSubnet',
      blockSize: 26,
    });
    expect(resources[7]!.metadata.namespace).toBe('production');
  });

  test('a multi-document file mixing kinds, groups and a Kubernetes policy', () => {
    const text = `---
apiVersion: margay.io/v1
kind: IPPool
metadata: {name: pool-a}
spec: {cidr: 10.10.0.0/16}
---
# a comment-only document is skipped
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: api}}}]
    ports: [{port: 5432}]
---
apiVersion: projectcalico.org/v3
kind: IPAMConfiguration
metadata: {name: default}
spec: {strictAffinity: true}
`;
    const resources = parseResources(text, 'mixed.yaml');
    expect(resources.map((r) => `${r.kind}/${r.metadata.namespace ?? '-'}/${r.metadata.name}`)).toEqual([
      'IPPool/-/pool-a',
      'NetworkPolicy/shop/knp.default.db',
      'IPAMConfiguration/-/default',
    ]);
  });

  test('JSON input and List documents (kind List or <Kind>List)', () => {
    const json = JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        {
          apiVersion: 'margay.io/v1',
          kind: 'IPPool',
          metadata: { name: 'a' },
          spec: { cidr: '10.1.0.0/16' },
        },
        {
          apiVersion: 'margay.io/v1',
          kind: 'IPPool',
          metadata: { name: 'b' },
          spec: { cidr: '10.2.0.0/16' },
        },
      ],
    });
    expect(parseResources(json, 'list.json').map((r) => r.metadata.name)).toEqual(['a', 'b']);

    const calicoctlOutput = `apiVersion: projectcalico.org/v3
kind: IPPoolList
metadata:
  resourceVersion: "1234"
items:
- apiVersion: projectcalico.org/v3
  kind: IPPool
  metadata:
    name: default-ipv4-ippool
    resourceVersion: "1001"
    uid: 5b2b5d1e-4c8a-4f7e-9f0e-0f3b7c6a1d2e
    creationTimestamp: "2024-05-01T10:00:00Z"
  spec:
    cidr: 192.168.0.0/16
    blockSize: 26
    ipipMode: Always
    natOutgoing: true
    nodeSelector: all()
`;
    const [pool] = parseResources(calicoctlOutput, 'get.yaml');
    expect(pool?.metadata).toEqual({
      name: 'default-ipv4-ippool',
      resourceVersion: '1001',
      uid: '5b2b5d1e-4c8a-4f7e-9f0e-0f3b7c6a1d2e',
      creationTimestamp: '2024-05-01T10:00:00Z',
    });
  });

  test('empty input yields no resources', () => {
    expect(parseResources('', 'empty.yaml')).toEqual([]);
    expect(parseResources('---\n---\n# nothing\n', 'empty.yaml')).toEqual([]);
  });

  test('an invalid IPPool names the field; nothing is returned when any document is bad', () => {
    const text = `apiVersion: margay.io/v1
kind: IPPool
metadata: {name: good}
spec: {cidr: 10.0.0.0/16}
---
apiVersion: margay.io/v1
kind: IPPool
metadata: {name: too-wide}
spec: {cidr: 10.0.0.0/33}
---
apiVersion: margay.io/v1
kind: IPPool
metadata: {name: odd-mode}
spec: {cidr: 10.1.0.0/16, ipipMode: Sometimes}
`;
    const error = parseError(text, 'pools.yaml');
    expect(error.message).toBe(
      [
        'pools.yaml: document 2 (IPPool too-wide): spec.cidr: "10.0.0.0/33" is not a CIDR: the prefix length must be 0-32 for IPv4',
        'pools.yaml: document 3 (IPPool odd-mode): spec.ipipMode: must be one of Never, Always, CrossSubnet (got "Sometimes")',
      ].join('\n'),
    );
    expect(error.issues.map((i) => [i.document, i.path])).toEqual([
      [2, 'spec.cidr'],
      [3, 'spec.ipipMode'],
    ]);
  });

  test('list items are located by their index', () => {
    const text = `kind: List
apiVersion: v1
items:
- {apiVersion: margay.io/v1, kind: IPPool, metadata: {name: a}, spec: {cidr: 10.0.0.0/16}}
- {apiVersion: margay.io/v1, kind: IPPool, metadata: {name: b}, spec: {cidr: 10.0.0.1/16}}
`;
    expect(parseError(text).message).toBe(
      'input.yaml: document 1 (IPPool b): items[1].spec.cidr: "10.0.0.1/16" is not masked (host bits are set): did you mean 10.0.0.0/16?',
    );
  });

  test('YAML syntax errors are reported with their line, alongside other documents’ problems', () => {
    const text = `apiVersion: margay.io/v1
kind: IPPool
metadata: {name: a}
spec: {cidr: 10.0.0.0/16
---
apiVersion: margay.io/v1
kind: Profile
metadata: {name: p}
metadata: {name: q}
---
apiVersion: margay.io/v1
kind: Nope
metadata: {name: x}
`;
    const error = parseError(text, 'broken.yaml');
    expect(error.issues).toHaveLength(3);
    expect(error.issues[0]).toMatchObject({ document: 1, path: '' });
    expect(error.issues[0]!.message).toMatch(/^YAML syntax error at line \d+, column \d+: /);
    expect(error.issues[1]).toMatchObject({
      document: 2,
      message: 'YAML syntax error at line 9, column 1: Map keys must be unique',
    });
    expect(error.issues[2]).toMatchObject({ document: 3, kind: 'Nope', path: 'kind' });
  });

  test('a scalar document is not a resource', () => {
    expect(parseError('just text', 'x.yaml').message).toBe(
      'x.yaml: document 1: expected a mapping with apiVersion, kind, metadata and spec (got "just text")',
    );
  });
});
