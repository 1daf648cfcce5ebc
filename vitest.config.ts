import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Integration tests run real onnxruntime sessions and child processes; two cores are shared.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Vitest's default on 2 cores is one worker, but much of this suite waits rather than computes
    // (qemu, npm ci, child processes, the loop's deadlines, ssh): two files at a time.
    maxWorkers: 2,
  },
});
