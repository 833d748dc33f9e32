import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_FLAGS } from './runtime';

const repo = join(__dirname, '..', '..', '..');

test.each([
  ['bin/margay-node', /exec node (.*) "\$cli"/],
  ['deploy/Dockerfile', /shim margay-node node\/dist\/main\.js (.*);/],
])('%s starts margay-node with its node flags', (file, launch) => {
  const flags = launch.exec(readFileSync(join(repo, file), 'utf8'))?.[1];
  expect(flags?.trim().split(/\s+/)).toEqual(NODE_FLAGS);
});
