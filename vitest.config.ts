import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Live-capture and browser tests start servers, tcpdump and Chromium: give them room on a
    // shared 2-core machine, and run files one at a time so captures never share loopback ports.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    // The skip-reasons reporter ends the run with every skipped test and its reason.
    reporters: [process.env.CI ? 'verbose' : 'default', './test/support/skip-reasons-reporter.ts'],
  },
});
