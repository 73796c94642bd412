/**
 * The server stage: the embedded agent-API TLS server (a child process) and the nginx launcher, both
 * answering the agent API with `fixtures/api/` bodies. Knows nothing of client modes.
 */
export type { AgentServer, AgentServerOptions, AgentServerStats } from './protocol.ts';
export { startAgentServer } from './agent-server.ts';
export { nginxVersion, startNginx } from './nginx.ts';
export { ServeError } from './errors.ts';
export { startProxy, type Proxy } from './proxy.ts';
