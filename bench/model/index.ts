/**
 * The types and tables that cross pipeline stages, one concern per file (DESIGN.md, "Measurement
 * definitions"). Field names here are a contract with tests, CI and other tools: add around them, never
 * rename them.
 */
export * from './axes.ts';
export * from './capture.ts';
export * from './check.ts';
export * from './fleet.ts';
export * from './network.ts';
export * from './observations.ts';
export * from './results.ts';
export * from './scenario.ts';
export * from './traffic.ts';
export * from './warnings.ts';
export * from './sensitivity.ts';
