/**
 * The owner's side of the link process (`link-main.ts`): starting it, waiting for its messages with a
 * deadline, and the tail of its stderr for error messages.
 */
import { execa, type ResultPromise } from 'execa';
import { bundledEntry } from '../bundle.ts';
import { REPO_ROOT } from '../paths.ts';
import { LinkError } from './errors.ts';
import type { LinkMessage, LinkProcessOptions, OwnerMessage } from './protocol.ts';

/** Bytes of the link process's stderr kept for error messages. */
const STDERR_KEEP_BYTES = 4096;

/**
 * execa options: IPC for the messages, stderr kept, no rejection (an exit is data), and execa's cleanup,
 * which sends the link process SIGTERM when this process exits: one of the ways it learns to tear down.
 */
const PROCESS_OPTIONS = {
  cwd: REPO_ROOT,
  ipc: true,
  serialization: 'json',
  stdin: 'ignore',
  stdout: 'ignore',
  stderr: 'pipe',
  buffer: false,
  reject: false,
  cleanup: true,
  forceKillAfterDelay: false,
} as const;

type Waiter = { onMessage(m: LinkMessage): void; onExit(how: string): void };

/** A running link process. */
export class LinkProcess {
  private stderr = '';
  private readonly waiters = new Set<Waiter>();
  private exitedHow: string | null = null;
  /** What the link process reported when it failed on its own (a device error while forwarding). */
  private failure: string | null = null;
  /** Resolves when the process has exited. */
  readonly exited: Promise<void>;

  private constructor(
    private readonly child: ResultPromise<typeof PROCESS_OPTIONS>,
    /** Names the link in messages: its namespace. */
    private readonly label: string,
  ) {
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-STDERR_KEEP_BYTES);
    });
    child.on('message', (m: LinkMessage) => {
      if (m.type === 'failed') this.failure = m.message;
      this.waiters.forEach((w) => w.onMessage(m));
    });
    this.exited = child.then((r) => {
      this.exitedHow = `${r.signal ?? `code ${r.exitCode}`}${this.failure === null ? '' : `, after: ${this.failure}`}`;
      this.waiters.forEach((w) => w.onExit(this.exitedHow!));
    });
  }

  /** Starts the link process (from the bundle, like the command line). */
  static async start(options: LinkProcessOptions): Promise<LinkProcess> {
    const child = execa(process.execPath, [await bundledEntry('link'), '--options', JSON.stringify(options)], PROCESS_OPTIONS);
    return new LinkProcess(child, options.serverNamespace);
  }

  /** A LinkError about this link, with the tail of the link process's stderr. */
  error(message: string, options?: { exitCode?: 1 | 2 }): LinkError {
    const lines = this.stderr.trim() === '' ? [] : this.stderr.trim().split('\n').slice(-8);
    return new LinkError([`link ${this.label}: ${message}`, ...lines.map((l) => `  | ${l}`)].join('\n'), options);
  }

  /**
   * The next message of `type` that `match` accepts. Rejects with a LinkError when the link process reports
   * a failure, exits, or sends nothing matching within `ms` (`what` names the wait).
   */
  next<T extends LinkMessage['type']>(type: T, ms: number, what: string, match: (m: Extract<LinkMessage, { type: T }>) => boolean = () => true) {
    return new Promise<Extract<LinkMessage, { type: T }>>((resolve, reject) => {
      const done = () => {
        this.waiters.delete(waiter);
        clearTimeout(timer);
      };
      const waiter: Waiter = {
        onMessage: (m) => {
          if (m.type === 'failed') {
            done();
            reject(this.error(m.message, { exitCode: m.exitCode }));
          } else if (m.type === type && match(m as Extract<LinkMessage, { type: T }>)) {
            done();
            resolve(m as Extract<LinkMessage, { type: T }>);
          }
        },
        onExit: (how) => {
          done();
          reject(this.error(`the link process exited (${how}) before ${what}`));
        },
      };
      const timer = setTimeout(() => {
        done();
        reject(this.error(`${what} took longer than ${ms} ms`));
      }, ms);
      if (this.exitedHow !== null) waiter.onExit(this.exitedHow);
      else this.waiters.add(waiter);
    });
  }

  /** Sends `message` and waits for `reply`; a failed send still leaves `reply`'s rejection handled. */
  async ask<T>(message: OwnerMessage, reply: Promise<T>): Promise<T> {
    reply.catch(() => undefined);
    if (!this.child.connected) throw this.error(`the link process is not running${this.failure === null ? '' : ` (it failed: ${this.failure})`}`);
    await this.child.sendMessage(message);
    return reply;
  }

  /** Sends `signal` to the link process. */
  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }
}
