// Builds margay-cni as one file, <out>/bundle/margay-cni.js (default out: dist), from the sources,
// so that each of the runtime's invocations loads one script instead of resolving hundreds of
// modules. Workspace packages are taken from their sources, as Jest does: no prior tsc needed.
// etcd3 reads its gRPC .proto files at run time from `<its dir>/../proto`: they are copied to
// <out>/proto, beside the bundle's directory, where the bundled etcd3 looks for them.
const { cpSync, readdirSync } = require('node:fs');
const { dirname, join, resolve } = require('node:path');
const esbuild = require('esbuild');

const out = resolve(process.argv[2] ?? join(__dirname, 'dist'));
const packages = join(__dirname, '..');
const alias = Object.fromEntries(
  readdirSync(packages).map((name) => [`@margay/${name}`, join(packages, name, 'src', 'index.ts')]),
);
const etcd3 = dirname(require.resolve('etcd3/package.json', { paths: [join(packages, 'datastore')] }));

esbuild.buildSync({
  entryPoints: [join(__dirname, 'src', 'cli.ts')],
  outfile: join(out, 'bundle', 'margay-cni.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  minify: true,
  alias,
  logLevel: 'warning',
});
cpSync(join(etcd3, 'proto'), join(out, 'proto'), { recursive: true });
