// One Jest run over every workspace package. Tests live beside the code (src/**/*.test.ts);
// *.int.test.ts are the ones that need real parts (etcd, network namespaces, root).
// Workspace imports resolve to sources, so tests never need a prior build.
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/packages', '<rootDir>/e2e'],
  testMatch: ['**/src/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  moduleNameMapper: { '^@margay/([^/]+)$': '<rootDir>/packages/$1/src/index.ts' },
  testTimeout: 30000,
};
