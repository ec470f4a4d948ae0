/**
 * ESM TypeScript tests through ts-jest; the compiled dist/ is built first by `npm test`.
 *
 * The suite is split by what a test needs (docs/architecture.md, Tests): `unit` needs nothing but
 * this process, `swarm` runs whole swarms inside this process over loopback, `process` starts our
 * command line, `interop` runs real clients (aria2c, libtorrent, Transmission, opentracker),
 * `lan` makes test hosts in network namespaces. `npm test` runs them all; `npm run
 * test:<project>` one of them.
 */
const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.test.json' }],
  },
};

const PROJECTS = ['unit', 'swarm', 'process', 'interop', 'lan'];

export default {
  // Read from here only: jest ignores a project's own testTimeout.
  testTimeout: 60000,
  projects: PROJECTS.map((name) => ({
    ...shared,
    displayName: name,
    testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
  })),
};
