import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One DynamoDB Local for the whole run, started on a free port; every test makes its own events.
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/environment.ts'],
    // Correctness, not speed: the races take 10-40 s alone but several times that beside another
    // race file on a shared 2-core machine. Speed is measured by npm run bench, not here.
    testTimeout: 300_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
