/**
 * The workload stage: a workload file in, an agent's request schedule in virtual time out (DESIGN.md,
 * "Workload"). Knows nothing of transports.
 */
export type { CountRange, Workload } from './format.ts';
export { WORKLOAD_SCHEMA, loadWorkload, parseWorkload } from './format.ts';
export type { ScheduleOptions } from './schedule.ts';
export { buildSchedule, expectedRequestsPerEndpointMinute, scheduleInstants } from './schedule.ts';
export { AGENT_API_PATHS, CHANNEL_OF, apiCallForPath, distributedQueryDue, nodeKeyFor } from './agent-api.ts';
export type { WorkloadFlag, WorkloadOverrides } from './overrides.ts';
export { applyWorkloadOverrides, overridesLabel, parseWorkloadFlag } from './overrides.ts';
