import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The soak measures heap growth over two minutes and runs by itself afterwards (vitest.soak.config.ts,
    // `npm run test:soak`, part of `npm test`): next to the other suites' load its rate and samples
    // would measure the machine, not s2-engine.
    exclude: ['test/soak/**', '**/node_modules/**'],
    testTimeout: 20_000,
    pool: 'forks',
  },
});
