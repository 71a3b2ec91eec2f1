import { defineConfig } from 'vitest/config';

// One runner for unit, lab (real sshd/runc/containerd/docker) and browser e2e tests.
// Lab tests start real daemons, so files run one at a time: two dockerds or two
// containerds fighting over /run would make failures that are not the product's.
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    pool: 'forks',
    reporters: ['default'],
  },
});
