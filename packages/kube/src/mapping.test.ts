import { API_VERSION, type Node, validateResource, type WorkloadEndpoint } from '@margay/api';
import {
  endpointForPod,
  isEndpointOfPod,
  isHostNetworked,
  isManaged,
  isNodeOf,
  KUBE_LABELS_ANNOTATION,
  kubeNameOf,
  MANAGED_BY_ANNOTATION,
  nodeWithKubeLabels,
  policyFromKube,
  profileFromNamespace,
} from './mapping';

const endpoint = (overrides: Record<string, unknown> = {}): WorkloadEndpoint =>
  validateResource({
    apiVersion: API_VERSION,
    kind: 'WorkloadEndpoint',
    metadata: {
      name: 'node--1-k8s-web-eth0',
      namespace: 'shop',
      labels: { cni: 'label', 'projectcalico.org/namespace': 'shop' },
    },
    spec: {
      orchestrator: 'k8s',
      node: 'node-1',
      pod: 'web',
      interfaceName: 'cali0123456789a',
      ipNetworks: ['10.1.0.5/32'],
      profiles: ['kns.shop'],
      ...overrides,
    },
  }) as WorkloadEndpoint;

const node = (metadata: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): Node =>
  validateResource({
    apiVersion: API_VERSION,
    kind: 'Node',
    metadata: { name: 'node-1', ...metadata },
    spec: { bgp: { ipv4Address: '10.0.0.1/24' }, ...spec },
  }) as Node;

describe('NetworkPolicy', () => {
  test('becomes knp.default.<name> in its namespace, marked as managed', () => {
    const policy = policyFromKube({
      metadata: { name: 'allow-web', namespace: 'shop', resourceVersion: '7' },
      spec: {
        podSelector: { matchLabels: { app: 'web' } },
        ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }], ports: [{ port: 80 }] }],
      },
    });
    expect(policy.metadata).toMatchObject({ name: 'knp.default.allow-web', namespace: 'shop' });
    expect(isManaged(policy)).toBe(true);
    expect(policy.spec.selector).toBe('app == "web"');
    expect(policy.spec.ingress).toEqual([
      {
        action: 'Allow',
        protocol: 'TCP',
        source: { selector: 'app == "client"' },
        destination: { ports: [80] },
      },
    ]);
  });

  test('reads the generated client’s `_from` and ignores its undefined fields', () => {
    const policy = policyFromKube({
      metadata: { name: 'p', namespace: 'shop' },
      spec: {
        podSelector: { matchLabels: undefined },
        policyTypes: ['Ingress'],
        ingress: [{ _from: [{ ipBlock: { cidr: '10.0.0.0/8', except: undefined } }], ports: undefined }],
        egress: undefined,
      },
    });
    expect(policy.spec.ingress).toEqual([{ action: 'Allow', source: { nets: ['10.0.0.0/8'] } }]);
  });

  test('a bad policy throws an error naming the object and the field', () => {
    expect(() =>
      policyFromKube({
        metadata: { name: 'bad', namespace: 'shop' },
        spec: { ingress: [{ from: [{ ipBlock: { cidr: 'nope' } }] }] },
      }),
    ).toThrow(/NetworkPolicy shop\/bad.*ingress\[0\]\.from\[0\]\.ipBlock\.cidr/s);
    expect(() => policyFromKube({ metadata: { namespace: 'shop' }, spec: {} })).toThrow(/no metadata\.name/);
  });
});

describe('Namespace', () => {
  test('becomes an allow-all Profile kns.<name> whose labels endpoints inherit as pcns.*', () => {
    const profile = profileFromNamespace({ metadata: { name: 'shop', labels: { env: 'prod' } } });
    expect(profile.metadata.name).toBe('kns.shop');
    expect(profile.metadata.annotations).toEqual({ [MANAGED_BY_ANNOTATION]: 'margay-kube-controllers' });
    expect(profile.spec).toEqual({
      ingress: [{ action: 'Allow' }],
      egress: [{ action: 'Allow' }],
      labelsToApply: { 'pcns.projectcalico.org/name': 'shop', 'pcns.env': 'prod' },
    });
  });
});

describe('Pod', () => {
  test('its labels replace the endpoint’s, with the namespace, orchestrator and service account added', () => {
    const updated = endpointForPod(endpoint(), {
      metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } },
      spec: { serviceAccountName: 'web-sa' },
    });
    expect(updated.metadata.labels).toEqual({
      app: 'web',
      'projectcalico.org/namespace': 'shop',
      'projectcalico.org/orchestrator': 'k8s',
      'projectcalico.org/serviceaccount': 'web-sa',
    });
    expect(updated.spec).toMatchObject({ serviceAccountName: 'web-sa', ipNetworks: ['10.1.0.5/32'] });
    expect(updated.spec.profiles).toEqual(['kns.shop']);
  });

  test('the namespace profile is put first and others kept', () => {
    const updated = endpointForPod(endpoint({ profiles: ['extra'] }), {
      metadata: { name: 'web', namespace: 'shop' },
    });
    expect(updated.spec.profiles).toEqual(['kns.shop', 'extra']);
  });

  test('endpoints are matched by namespace, pod and orchestrator k8s; hostNetwork pods are ignored', () => {
    expect(isEndpointOfPod(endpoint(), 'shop', 'web')).toBe(true);
    expect(isEndpointOfPod(endpoint(), 'shop', 'api')).toBe(false);
    expect(isEndpointOfPod(endpoint(), 'other', 'web')).toBe(false);
    expect(isEndpointOfPod(endpoint({ orchestrator: 'cni' }), 'shop', 'web')).toBe(false);
    expect(isHostNetworked({ spec: { hostNetwork: true } })).toBe(true);
    expect(isHostNetworked({ spec: {} })).toBe(false);
  });
});

describe('Node', () => {
  test('gets the Kubernetes labels and a k8s orchRef; labels set by others stay', () => {
    const updated = nodeWithKubeLabels(node({ labels: { rack: 'r1' } }), {
      metadata: { name: 'node-1', labels: { zone: 'a' } },
    });
    expect(updated.metadata.labels).toEqual({ rack: 'r1', zone: 'a' });
    expect(updated.spec.orchRefs).toEqual([{ nodeName: 'node-1', orchestrator: 'k8s' }]);
    expect(updated.spec.bgp?.ipv4Address).toBe('10.0.0.1/24');
    expect(kubeNameOf(updated)).toBe('node-1');
  });

  test('a label removed in Kubernetes is removed from the Node, a changed one changes', () => {
    const first = nodeWithKubeLabels(node({ labels: { rack: 'r1' } }), {
      metadata: { name: 'node-1', labels: { zone: 'a', gpu: 'yes' } },
    });
    const second = nodeWithKubeLabels(first, { metadata: { name: 'node-1', labels: { zone: 'b' } } });
    expect(second.metadata.labels).toEqual({ rack: 'r1', zone: 'b' });
    expect(JSON.parse(second.metadata.annotations?.[KUBE_LABELS_ANNOTATION] ?? '')).toEqual({ zone: 'b' });
  });

  test('maps to a Kubernetes node by its k8s orchRef, else by name', () => {
    expect(isNodeOf(node(), 'node-1')).toBe(true);
    expect(isNodeOf(node(), 'node-2')).toBe(false);
    const renamed = node({}, { orchRefs: [{ nodeName: 'k8s-node-1', orchestrator: 'k8s' }] });
    expect(isNodeOf(renamed, 'k8s-node-1')).toBe(true);
    expect(isNodeOf(renamed, 'node-1')).toBe(false);
    expect(kubeNameOf(node())).toBeUndefined();
  });
});
