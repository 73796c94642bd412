import { BenchError } from '../errors.ts';

/** Where in a request's life a transport failure happened. */
export type TransportPhase = 'connect' | 'handshake' | 'write' | 'read' | 'deadline' | 'protocol' | 'aborted';

/**
 * One request attempt failed on the wire: refused connection, handshake or certificate failure, a reset or
 * early EOF, a malformed response, or the per-request deadline. `AgentClient.send` turns it into a
 * `{ state: 'failed' }` outcome; it reaches a user only if a caller rethrows it, hence exit code 1 (a measured
 * failure).
 */
export class TransportError extends BenchError {
  readonly phase: TransportPhase;

  constructor(phase: TransportPhase, message: string, options?: { cause?: unknown }) {
    super(message, 1, options);
    this.phase = phase;
  }
}
