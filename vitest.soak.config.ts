import { defineConfig } from 'vitest/config';

/** The soak alone (test/soak): `npm run test:soak`, the last step of `npm test`. */
export default defineConfig({
  test: {
    include: ['test/soak/**/*.test.ts'],
    testTimeout: 240_000,
    pool: 'forks',
  },
});
