import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resourceKey, resourcePrefix } from '@margay/api';
import { type Datastore, DatastoreUnavailableError, MemoryDatastore } from '@margay/datastore';
import { makeTempDir, removeTempDir } from '@margay/testkit';
import { parseAllDocuments } from 'yaml';
import { EXIT_ERROR, EXIT_OK, EXIT_USAGE } from './main';
import { MAX_ATTEMPTS } from './mutation';
import { runCli, sharedView } from './testing';

const pool = (name: string, cidr: string, extra = '') => `apiVersion: projectcalico.org/v3
kind: IPPool
metadata:
  name: ${name}
spec:
  cidr: ${cidr}
${extra}`;

const policy = (name: string, namespace: string) => `apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
  selector: app == "web"
  ingress:
    - action: Allow
`;

const BGP_CONFIG = `apiVersion: projectcalico.org/v3
kind: BGPConfiguration
metadata:
  name: default
spec:
  asNumber: 65010
`;

const docs = (...documents: string[]) => documents.join('---\n');

let dir: string;
let store: MemoryDatastore;
let view: ReturnType<typeof sharedView>;

beforeAll(() => {
  dir = makeTempDir('ctl-unit');
});
afterAll(() => removeTempDir(dir));
beforeEach(() => {
  store = new MemoryDatastore();
  view = sharedView(store);
});
afterEach(() => store.close());

let fileCounter = 0;
function file(text: string): string {
  const path = join(dir, `resources-${++fileCounter}.yaml`);
  writeFileSync(path, text);
  return path;
}

function ctl(argv: string[], stdin?: string, openDatastore = () => view) {
  return runCli(argv, { stdin, openDatastore });
}

async function storedJson(
  key: string,
): Promise<{ metadata: Record<string, unknown>; spec: Record<string, unknown> }> {
  const kv = await store.get(key);
  if (!kv) throw new Error(`${key} is not stored`);
  return JSON.parse(kv.value);
}

/** Everything under margay's resource keys, to prove a failed command wrote nothing. */
async function snapshot(): Promise<{ revision: number; keys: string[] }> {
  const { items, revision } = await store.list('/margay/');
  return { revision, keys: items.map((kv) => `${kv.key}@${kv.modRevision}`) };
}

describe('apply, create, replace', () => {
  test('apply writes every document and reports the count per kind', async () => {
    const result = await ctl([
      'apply',
      '-f',
      file(docs(pool('pool-a', '10.1.0.0/16'), pool('pool-b', '10.2.0.0/16'))),
    ]);
    expect(result).toEqual({
      code: EXIT_OK,
      stdout: "Successfully applied 2 'IPPool' resource(s)\n",
      stderr: '',
    });
    const stored = await storedJson(resourceKey('IPPool', 'pool-a'));
    expect(stored.spec.cidr).toBe('10.1.0.0/16');
    expect(stored.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number.isNaN(Date.parse(String(stored.metadata.creationTimestamp)))).toBe(false);
    expect(stored.metadata.resourceVersion).toBeUndefined();
    expect(await store.get(resourceKey('IPPool', 'pool-b'))).toBeDefined();
    expect(view.closed).toBe(1);
  });

  test('mixed kinds are counted without a kind', async () => {
    const result = await ctl([
      'apply',
      '-f',
      file(docs(pool('pool-a', '10.1.0.0/16'), BGP_CONFIG, policy('p', 'prod'))),
    ]);
    expect(result.stdout).toBe('Successfully applied 3 resource(s)\n');
    expect(await store.get(resourceKey('NetworkPolicy', 'p', 'prod'))).toBeDefined();
  });

  test('apply over an existing resource updates it and keeps its identity', async () => {
    await ctl(['apply', '-f', file(pool('pool-a', '10.1.0.0/16'))]);
    const before = await storedJson(resourceKey('IPPool', 'pool-a'));
    const result = await ctl(['apply', '-f', file(pool('pool-a', '10.1.0.0/16', '  natOutgoing: true\n'))]);
    expect(result.code).toBe(EXIT_OK);
    const after = await storedJson(resourceKey('IPPool', 'pool-a'));
    expect(after.spec.natOutgoing).toBe(true);
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(after.metadata.creationTimestamp).toBe(before.metadata.creationTimestamp);
  });

  test('-f - reads stdin, and -f may repeat', async () => {
    const result = await ctl(
      ['create', '-f', '-', '-f', file(pool('pool-b', '10.2.0.0/16'))],
      pool('pool-a', '10.1.0.0/16'),
    );
    expect(result).toMatchObject({ code: EXIT_OK, stdout: "Successfully created 2 'IPPool' resource(s)\n" });
    expect(await store.get(resourceKey('IPPool', 'pool-a'))).toBeDefined();
  });

  test('one invalid document fails the whole invocation, naming every problem, writing nothing', async () => {
    await ctl(['apply', '-f', file(pool('existing', '10.9.0.0/16'))]);
    const before = await snapshot();
    const first = file(docs(pool('good', '10.1.0.0/16'), pool('too-long', '10.0.0.0/33')));
    const second = file(docs(BGP_CONFIG, pool('bad-mode', '10.3.0.0/16', '  ipipMode: Sometimes\n')));
    const result = await ctl(['apply', '-f', first, '-f', second]);
    expect(result.code).toBe(EXIT_ERROR);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(
      new RegExp(`^${first}: document 2 \\(IPPool too-long\\): spec\\.cidr: .+$`, 'm'),
    );
    expect(result.stderr).toMatch(
      new RegExp(`^${second}: document 2 \\(IPPool bad-mode\\): spec\\.ipipMode: .*Sometimes`, 'm'),
    );
    expect(result.stderr).toMatch(/nothing was written/);
    expect(await snapshot()).toEqual(before);
  });

  test('an unreadable file fails before anything is written', async () => {
    const missing = join(dir, 'no-such-file.yaml');
    const result = await ctl(['apply', '-f', file(pool('pool-a', '10.1.0.0/16')), '-f', missing]);
    expect(result.code).toBe(EXIT_ERROR);
    expect(result.stderr).toContain(`${missing}: cannot read`);
    expect((await snapshot()).keys).toEqual([]);
  });

  test('a file without resources is an error', async () => {
    const empty = file('# nothing here\n');
    const result = await ctl(['apply', '-f', empty]);
    expect(result).toMatchObject({ code: EXIT_ERROR, stderr: `no resources found in ${empty}\n` });
  });

  test('the same resource twice in one invocation is an error', async () => {
    const a = file(pool('pool-a', '10.1.0.0/16'));
    const b = file(docs(pool('pool-b', '10.2.0.0/16'), pool('pool-a', '10.3.0.0/16')));
    const result = await ctl(['apply', '-f', a, '-f', b]);
    expect(result.code).toBe(EXIT_ERROR);
    expect(result.stderr).toContain(`${b}: IPPool pool-a: given more than once (first in ${a})`);
    expect((await snapshot()).keys).toEqual([]);
  });

  test('create over an existing resource names it and writes nothing', async () => {
    await ctl(['create', '-f', file(pool('pool-a', '10.1.0.0/16'))]);
    const before = await snapshot();
    const result = await ctl([
      'create',
      '-f',
      file(docs(pool('pool-b', '10.2.0.0/16'), pool('pool-a', '10.1.0.0/16'))),
    ]);
    expect(result).toEqual({
      code: EXIT_ERROR,
      stdout: '',
      stderr: 'IPPool pool-a already exists\nnothing was created\n',
    });
    expect(await snapshot()).toEqual(before);
  });

  test('replace of a missing resource names it and writes nothing', async () => {
    await ctl(['create', '-f', file(pool('pool-a', '10.1.0.0/16'))]);
    const before = await snapshot();
    const input = file(
      docs(pool('pool-a', '10.1.0.0/16', '  disabled: true\n'), pool('pool-b', '10.2.0.0/16')),
    );
    const result = await ctl(['replace', '-f', input]);
    expect(result).toMatchObject({
      code: EXIT_ERROR,
      stderr: 'IPPool pool-b does not exist\nnothing was replaced\n',
    });
    expect(await snapshot()).toEqual(before);
  });

  test('replace updates existing resources and keeps their identity', async () => {
    await ctl(['create', '-f', file(pool('pool-a', '10.1.0.0/16'))]);
    const before = await storedJson(resourceKey('IPPool', 'pool-a'));
    const result = await ctl(['replace', '-f', file(pool('pool-a', '10.1.0.0/16', '  disabled: true\n'))]);
    expect(result.stdout).toBe("Successfully replaced 1 'IPPool' resource(s)\n");
    const after = await storedJson(resourceKey('IPPool', 'pool-a'));
    expect(after.spec.disabled).toBe(true);
    expect(after.metadata.uid).toBe(before.metadata.uid);
  });

  test('more resources than one etcd transaction takes: refused with advice, nothing written', async () => {
    const pools = Array.from({ length: 129 }, (_, i) => pool(`pool-${i}`, `10.${i}.0.0/16`));
    const result = await ctl(['apply', '-f', file(docs(...pools))]);
    expect(result.code).toBe(EXIT_ERROR);
    expect(result.stderr).toMatch(/129 resources .*\(128\); split the input/);
    expect((await snapshot()).keys).toEqual([]);
  });

  test('without -f it is a usage error', async () => {
    const result = await ctl(['apply']);
    expect(result).toMatchObject({
      code: EXIT_USAGE,
      stderr: 'error: apply needs -f FILE (or -f - for stdin)\n',
    });
  });
});

describe('concurrent writers', () => {
  /** A store where another writer puts `key` right before each of our transactions. */
  function interfered(key: string, times: number) {
    let interferences = 0;
    return sharedView(store, {
      txn: async (conditions, ops) => {
        if (interferences++ < times) await store.put(key, (await store.get(key))?.value ?? '{}');
        return store.txn(conditions, ops);
      },
    });
  }

  test('apply re-reads and retries when a key changed between its read and its transaction', async () => {
    await ctl(['apply', '-f', file(pool('pool-a', '10.1.0.0/16'))]);
    const racy = interfered(resourceKey('IPPool', 'pool-a'), 2);
    const result = await ctl(
      ['apply', '-f', file(pool('pool-a', '10.1.0.0/16', '  natOutgoing: true\n'))],
      undefined,
      () => racy,
    );
    expect(result.code).toBe(EXIT_OK);
    expect((await storedJson(resourceKey('IPPool', 'pool-a'))).spec.natOutgoing).toBe(true);
  });

  test('a key that keeps changing makes apply give up cleanly', async () => {
    await ctl(['apply', '-f', file(pool('pool-a', '10.1.0.0/16'))]);
    const racy = interfered(resourceKey('IPPool', 'pool-a'), MAX_ATTEMPTS);
    const input = file(
      docs(pool('pool-a', '10.1.0.0/16', '  natOutgoing: true\n'), pool('pool-b', '10.2.0.0/16')),
    );
    const result = await ctl(['apply', '-f', input], undefined, () => racy);
    expect(result).toMatchObject({
      code: EXIT_ERROR,
      stderr: `IPPool pool-a kept changing concurrently (${MAX_ATTEMPTS} attempts)\nnothing was applied\n`,
    });
    expect(await store.get(resourceKey('IPPool', 'pool-b'))).toBeUndefined();
  });

  test('create loses cleanly to a concurrent creator of the same resource', async () => {
    const key = resourceKey('IPPool', 'pool-a');
    const racy = sharedView(store, {
      txn: async (conditions, ops) => {
        if (!(await store.get(key))) await ctl(['create', '-f', file(pool('pool-a', '10.7.0.0/16'))]);
        return store.txn(conditions, ops);
      },
    });
    const result = await ctl(
      ['create', '-f', file(docs(pool('pool-a', '10.1.0.0/16'), pool('pool-b', '10.2.0.0/16')))],
      undefined,
      () => racy,
    );
    expect(result).toMatchObject({
      code: EXIT_ERROR,
      stderr: 'IPPool pool-a already exists\nnothing was created\n',
    });
    expect((await storedJson(key)).spec.cidr).toBe('10.7.0.0/16');
    expect(await store.get(resourceKey('IPPool', 'pool-b'))).toBeUndefined();
  });

  test('a conflict is retried only as a ConflictError: other failures are reported at once', async () => {
    const failing = sharedView(store, {
      txn: async () => {
        throw new DatastoreUnavailableError('etcd unreachable at http://127.0.0.1:1 (test)');
      },
    });
    const result = await ctl(['apply', '-f', file(pool('pool-a', '10.1.0.0/16'))], undefined, () => failing);
    expect(result).toMatchObject({
      code: EXIT_ERROR,
      stderr: 'error: etcd unreachable at http://127.0.0.1:1 (test)\n',
    });
    expect(failing.closed).toBe(1);
  });
});

describe('delete', () => {
  beforeEach(async () => {
    const setup = await ctl([
      'apply',
      '-f',
      file(
        docs(
          pool('pool-a', '10.1.0.0/16'),
          pool('pool-b', '10.2.0.0/16'),
          policy('p', 'prod'),
          policy('p', 'default'),
        ),
      ),
    ]);
    expect(setup.code).toBe(EXIT_OK);
  });

  test('KIND NAME... deletes them all (kind aliases accepted)', async () => {
    const result = await ctl(['delete', 'pools', 'pool-a', 'pool-b']);
    expect(result).toEqual({
      code: EXIT_OK,
      stdout: "Successfully deleted 2 'IPPool' resource(s)\n",
      stderr: '',
    });
    expect((await store.list(resourcePrefix('IPPool'))).items).toEqual([]);
  });

  test('an absent name fails the whole delete, naming it', async () => {
    const before = await snapshot();
    const result = await ctl(['delete', 'ippool', 'pool-a', 'nope']);
    expect(result).toMatchObject({
      code: EXIT_ERROR,
      stderr: 'IPPool nope does not exist\nnothing was deleted\n',
    });
    expect(await snapshot()).toEqual(before);
  });

  test('a name given twice is an error', async () => {
    const result = await ctl(['delete', 'ippool', 'pool-a', 'pool-a']);
    expect(result.code).toBe(EXIT_ERROR);
    expect(result.stderr).toContain('command line: IPPool pool-a: given more than once');
    expect(await store.get(resourceKey('IPPool', 'pool-a'))).toBeDefined();
  });

  test('-n picks the namespace of namespaced kinds (default: default)', async () => {
    expect((await ctl(['delete', 'networkpolicy', 'p', '-n', 'prod'])).code).toBe(EXIT_OK);
    expect(await store.get(resourceKey('NetworkPolicy', 'p', 'prod'))).toBeUndefined();
    expect(await store.get(resourceKey('NetworkPolicy', 'p', 'default'))).toBeDefined();
    expect((await ctl(['delete', 'networkpolicy', 'p'])).code).toBe(EXIT_OK);
    expect(await store.get(resourceKey('NetworkPolicy', 'p', 'default'))).toBeUndefined();
  });

  test('-f deletes the resources a file describes', async () => {
    const result = await ctl([
      'delete',
      '-f',
      file(docs(pool('pool-a', '10.1.0.0/16'), policy('p', 'prod'))),
    ]);
    expect(result.stdout).toBe('Successfully deleted 2 resource(s)\n');
    expect(await store.get(resourceKey('IPPool', 'pool-a'))).toBeUndefined();
    expect(await store.get(resourceKey('IPPool', 'pool-b'))).toBeDefined();
  });

  test('usage errors: nothing to delete, unknown kind, kind without names, both forms', async () => {
    expect(await ctl(['delete'])).toMatchObject({
      code: EXIT_USAGE,
      stderr: 'error: delete needs -f FILE or KIND NAME...\n',
    });
    const unknown = await ctl(['delete', 'ippoolz', 'x']);
    expect(unknown.code).toBe(EXIT_USAGE);
    expect(unknown.stderr).toMatch(
      /^error: unknown kind "ippoolz"; one of: IPPool \(ippools\), .*GlobalNetworkPolicy/,
    );
    expect((await ctl(['delete', 'ippool'])).code).toBe(EXIT_USAGE);
    expect((await ctl(['delete', 'ippool', 'pool-a', '-f', file(pool('pool-a', '10.1.0.0/16'))])).code).toBe(
      EXIT_USAGE,
    );
    expect(await store.get(resourceKey('IPPool', 'pool-a'))).toBeDefined();
  });
});

describe('get', () => {
  beforeEach(async () => {
    const setup = await ctl([
      'apply',
      '-f',
      file(
        docs(
          pool('pool-a', '10.1.0.0/16', '  natOutgoing: true\n  ipipMode: Always\n'),
          pool('pool-b', '10.2.0.0/16', '  nodeSelector: rack == "r1"\n  vxlanMode: CrossSubnet\n'),
          policy('allow-web', 'default'),
          policy('allow-db', 'prod'),
        ),
      ),
    ]);
    expect(setup.code).toBe(EXIT_OK);
  });

  test('without a kind it is a usage error listing the kinds', async () => {
    const result = await ctl(['get']);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toMatch(/^error: get needs a KIND; one of: /);
    for (const kind of [
      'IPPool',
      'BGPPeer',
      'Node',
      'NetworkPolicy',
      'GlobalNetworkPolicy',
      'HostEndpoint',
    ]) {
      expect(result.stderr).toContain(kind);
    }
  });

  test('table output has calicoctl headers, aligned', async () => {
    const result = await ctl(['get', 'ippool']);
    expect(result).toEqual({
      code: EXIT_OK,
      stdout: [
        'NAME     CIDR          SELECTOR',
        'pool-a   10.1.0.0/16   all()',
        'pool-b   10.2.0.0/16   rack == "r1"',
        '',
      ].join('\n'),
      stderr: '',
    });
  });

  test('wide output adds the IPPool details', async () => {
    const result = await ctl(['get', 'ippools', 'pool-a', '-o', 'wide']);
    const [header, row] = result.stdout
      .trimEnd()
      .split('\n')
      .map((line) => line.split(/\s{2,}/));
    expect(header).toEqual([
      'NAME',
      'CIDR',
      'SELECTOR',
      'NAT',
      'IPIPMODE',
      'VXLANMODE',
      'DISABLED',
      'DISABLEBGPEXPORT',
      'ASSIGNMENTMODE',
    ]);
    expect(row?.slice(0, 7)).toEqual(['pool-a', '10.1.0.0/16', 'all()', 'true', 'Always', 'Never', 'false']);
  });

  test('yaml of one resource: the full resource with resourceVersion = modRevision', async () => {
    const kv = await store.get(resourceKey('IPPool', 'pool-a'));
    const result = await ctl(['get', 'ippool', 'pool-a', '-o', 'yaml']);
    const documents = parseAllDocuments(result.stdout).map((document) => document.toJS());
    expect(documents).toHaveLength(1);
    const stored = JSON.parse(kv!.value);
    expect(documents[0]).toEqual({
      ...stored,
      metadata: { ...stored.metadata, resourceVersion: String(kv!.modRevision) },
    });
  });

  test('yaml of several resources: one document each; json: a List', async () => {
    const yaml = await ctl(['get', 'ippool', '-o', 'yaml']);
    const names = parseAllDocuments(yaml.stdout).map((document) => document.toJS().metadata.name);
    expect(names).toEqual(['pool-a', 'pool-b']);
    const json = JSON.parse((await ctl(['get', 'ippool', 'pool-a', 'pool-b', '-o', 'json'])).stdout);
    expect(json.kind).toBe('List');
    expect(json.items.map((item: { spec: { cidr: string } }) => item.spec.cidr)).toEqual([
      '10.1.0.0/16',
      '10.2.0.0/16',
    ]);
    const single = JSON.parse((await ctl(['get', 'ippool', 'pool-b', '-o', 'json'])).stdout);
    expect(single).toMatchObject({
      kind: 'IPPool',
      metadata: { name: 'pool-b' },
      spec: { vxlanMode: 'CrossSubnet' },
    });
  });

  test('what get prints as a json List can be applied back', async () => {
    const listed = (await ctl(['get', 'ippool', '-o', 'json'])).stdout;
    expect(await ctl(['apply', '-f', '-'], listed)).toMatchObject({
      code: EXIT_OK,
      stdout: "Successfully applied 2 'IPPool' resource(s)\n",
    });
  });

  test('a missing name is an error', async () => {
    const result = await ctl(['get', 'ippool', 'pool-a', 'nope']);
    expect(result).toEqual({ code: EXIT_ERROR, stdout: '', stderr: 'IPPool nope does not exist\n' });
  });

  test('namespaced kinds: default namespace, -n, and -A with a NAMESPACE column', async () => {
    expect((await ctl(['get', 'networkpolicy'])).stdout).toBe('NAME        TIER\nallow-web   default\n');
    expect((await ctl(['get', 'netpol', '-n', 'prod'])).stdout).toBe('NAME       TIER\nallow-db   default\n');
    expect((await ctl(['get', 'networkpolicies', '-A'])).stdout).toBe(
      'NAMESPACE   NAME        TIER\ndefault     allow-web   default\nprod        allow-db    default\n',
    );
    expect((await ctl(['get', 'networkpolicy', 'allow-db', '-A'])).code).toBe(EXIT_USAGE);
  });

  test('an empty kind prints just the header', async () => {
    expect((await ctl(['get', 'bgppeers'])).stdout).toBe('NAME   PEERIP   NODE   ASN\n');
  });

  test('BGPPeer, BGPConfiguration and Node columns', async () => {
    const input = file(
      docs(
        BGP_CONFIG,
        `apiVersion: projectcalico.org/v3
kind: BGPPeer
metadata:
  name: tor
spec:
  peerIP: 192.0.2.1
  asNumber: 64600
`,
        `apiVersion: projectcalico.org/v3
kind: Node
metadata:
  name: node-1
spec:
  bgp:
    ipv4Address: 192.0.2.10/24
    asNumber: 64601
`,
      ),
    );
    expect((await ctl(['apply', '-f', input])).code).toBe(EXIT_OK);
    expect((await ctl(['get', 'bgppeer'])).stdout).toBe(
      'NAME   PEERIP      NODE       ASN\ntor    192.0.2.1   (global)   64600\n',
    );
    expect((await ctl(['get', 'bgpconfig'])).stdout).toBe(
      'NAME      LOGSEVERITY   MESHENABLED   ASNUMBER\ndefault   Info          true          65010\n',
    );
    expect((await ctl(['get', 'node', '-o', 'wide'])).stdout).toBe(
      'NAME     ASN     IPV4            IPV6\nnode-1   64601   192.0.2.10/24\n',
    );
  });

  test('an unknown output format is a usage error', async () => {
    const result = await ctl(['get', 'ippool', '-o', 'xml']);
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stderr).toContain("'xml' is invalid");
  });
});

describe('the command line', () => {
  test('version prints the package version', async () => {
    const { version } = require('../package.json') as { version: string };
    expect(await ctl(['version'])).toEqual({ code: EXIT_OK, stdout: `margayctl ${version}\n`, stderr: '' });
  });

  test('--help works on the program and on every command', async () => {
    const help = await ctl(['--help']);
    expect(help.code).toBe(EXIT_OK);
    for (const verb of ['apply', 'create', 'replace', 'delete', 'get', 'version'])
      expect(help.stdout).toContain(verb);
    for (const verb of ['apply', 'create', 'replace', 'delete', 'get']) {
      const result = await ctl([verb, '--help']);
      expect(result.code).toBe(EXIT_OK);
      expect(result.stdout).toContain('--etcd-endpoints');
    }
    expect((await ctl(['get', '--help'])).stdout).toContain('--all-namespaces');
  });

  test('unknown commands and options are usage errors', async () => {
    expect((await ctl(['frobnicate'])).code).toBe(EXIT_USAGE);
    expect((await ctl(['get', 'ippool', '--bogus'])).code).toBe(EXIT_USAGE);
    expect((await ctl([])).code).toBe(EXIT_USAGE);
  });

  test('connection settings: flags win over the environment, which wins over the default', async () => {
    const seen: unknown[] = [];
    const open = (env: Record<string, string>, argv: string[]) =>
      runCli(['get', 'ippool', ...argv], {
        env,
        openDatastore: (config) => {
          seen.push(config);
          return view;
        },
      });
    await open({}, []);
    await open(
      { ETCD_ENDPOINTS: 'http://127.0.0.1:23790,http://127.0.0.2:23790', ETCD_CA_CERT_FILE: '/env/ca.pem' },
      [],
    );
    await open({ ETCD_ENDPOINTS: 'http://127.0.0.1:23790', ETCD_CERT_FILE: '/env/cert.pem' }, [
      '--etcd-endpoints',
      'https://127.0.0.3:2379',
      '--etcd-ca-cert-file',
      '/flag/ca.pem',
      '--etcd-cert-file',
      '/flag/cert.pem',
      '--etcd-key-file',
      '/flag/key.pem',
    ]);
    expect(seen[0]).toMatchObject({ endpoints: ['http://127.0.0.1:2379'] });
    expect(seen[1]).toMatchObject({
      endpoints: ['http://127.0.0.1:23790', 'http://127.0.0.2:23790'],
      caFile: '/env/ca.pem',
    });
    expect(seen[2]).toMatchObject({
      endpoints: ['https://127.0.0.3:2379'],
      caFile: '/flag/ca.pem',
      certFile: '/flag/cert.pem',
      keyFile: '/flag/key.pem',
    });
  });

  test('commands that need no datastore do not open one', async () => {
    const open = jest.fn((): Datastore => view);
    await runCli(['version'], { openDatastore: open });
    await runCli(['get'], { openDatastore: open });
    await runCli(['apply', '-f', file(pool('bad', '10.0.0.0/33'))], { openDatastore: open });
    expect(open).not.toHaveBeenCalled();
  });
});
