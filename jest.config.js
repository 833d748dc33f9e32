// One Jest run over every workspace package. Tests live beside the code (src/**/*.test.ts);
// *.int.test.ts are the ones that need real parts (etcd, network namespaces, root).
// Workspace imports resolve to sources, so tests never need a prior build.
const ESM_ONLY = ['@kubernetes\\+client-node', 'openid-client', 'oauth4webapi', 'jose'];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/e2e'],
  testMatch: ['**/src/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: { '^.+\\.(ts|js|mjs)$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  // @kubernetes/client-node and some of its dependencies ship only ES modules: compile those to CommonJS.
  transformIgnorePatterns: [`^(?!.*\\.pnpm/(${ESM_ONLY.join('|')})@).*/node_modules/`],
  moduleNameMapper: { '^@margay/([^/]+)$': '<rootDir>/packages/$1/src/index.ts' },
  testTimeout: 30000,
};
