/** The client transports (`fresh`, `persistent`, `resumed`): public surface of `bench/drive/`. */
export { AgentClient, DEFAULT_REQUEST_DEADLINE_MS, type ConnectionRecord, type TransportOptions } from './client.ts';
export type { ClosedBy } from './connection.ts';
export { hostHeaderValue, serializeRequest, ResponseParser, type HttpResponse } from './http1.ts';
export { TransportError, type TransportPhase } from './transport-error.ts';
export { agentAddress, agentIndexOf, agentNetworks, MAX_AGENTS } from './addresses.ts';
