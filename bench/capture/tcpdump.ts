/**
 * tcpdump's lifecycle: started through execa with an argument array, confirmed listening before the first
 * SYN, stopped with SIGINT and awaited, its closing counts parsed (DESIGN.md "Capture").
 */
import { execa, type ResultPromise } from 'execa';
import { writeFile } from 'node:fs/promises';
import { CaptureError, cannotWrite } from '../errors.ts';
import { guardProcess } from '../guard/guard.ts';
import type { CaptureStats } from '../model/index.ts';

/** What to capture. */
export interface CaptureOptions {
  /** Interface, `lo` for loopback scenarios. */
  iface: string;
  /** TCP ports whose traffic is kept (the BPF filter); empty keeps all TCP. */
  ports: number[];
  /**
   * The address the ports are served on: only packets from or to that address *and* port are kept. Without it
   * a port matches on any address, and another program's connection whose end on another loopback address
   * happens to use the same port number (127.16.1.148:32843 → 127.0.0.1:46655 while our server listens on
   * 127.0.0.1:32843) lands in the capture and breaks the reconciliation.
   */
  host?: string;
  /** pcap file to write. */
  file: string;
  /** Keep only packets to or from these networks (CIDR, e.g. a fleet's sampled agents); all when absent. */
  nets?: string[];
}

/** How long tcpdump may take to report that it is listening. */
const START_TIMEOUT_MS = 10_000;
/** How long tcpdump may take to flush and exit after SIGINT before it is killed. */
const STOP_TIMEOUT_MS = 10_000;

const INSTALL_HINT = 'install it (Debian/Ubuntu: apt-get install tcpdump), or run with --no-capture to measure from socket counters only';
const PERMISSION_HINT =
  'run as root, or grant the capability once: sudo setcap cap_net_raw,cap_net_admin=eip "$(command -v tcpdump)"; or run with --no-capture';

/** stderr is read as it comes (the "listening on" line, then the closing counts), never buffered by execa. */
const TCPDUMP_OPTIONS = { stdout: 'ignore', stderr: 'pipe', reject: false, cleanup: true, buffer: false } as const;

/** A running tcpdump. */
export class TcpdumpCapture {
  private stderr = '';
  private stopped: Promise<CaptureStats> | null = null;
  /** Set when tcpdump exits before stop() asked it to: killed from outside, or failed writing. */
  private exitedEarly: { exitCode: number | undefined; signal: string | undefined } | null = null;
  private stopping = false;

  private constructor(
    private readonly child: ResultPromise<typeof TCPDUMP_OPTIONS>,
    readonly file: string,
  ) {
    child.then(
      (result) => {
        if (!this.stopping) this.exitedEarly = { exitCode: result.exitCode, signal: result.signal };
      },
      () => undefined,
    );
  }

  /** The tcpdump process id (for cleanup checks). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Starts tcpdump and resolves once it reports listening; rejects with a CaptureError naming the fix. */
  static async start(options: CaptureOptions): Promise<TcpdumpCapture> {
    const filter = captureFilter(options);
    const args = [
      '-i', options.iface,
      // Without immediate mode packets still in a kernel buffer block when tcpdump stops are lost; -U writes
      // each packet to the file as it arrives; -s 0 keeps whole packets.
      '--immediate-mode', '-U', '-s', '0', '-n',
      // A 32 MiB kernel buffer (the default is 2 MiB): on a busy machine tcpdump can fall behind a burst of
      // handshakes, and a single kernel drop makes the scenario invalid.
      '-B', '32768',
      '-w', options.file,
      ...(process.getuid?.() === 0 ? ['-Z', 'root'] : []),
      filter,
    ];
    // The capture holds every byte of the scenario's TLS sessions, and the key log beside it their secrets:
    // made 0600 before tcpdump opens it (it keeps the mode of a file it truncates).
    try {
      await writeFile(options.file, '', { mode: 0o600 });
    } catch (error) {
      throw cannotWrite(options.file, error);
    }
    const child = execa('tcpdump', args, TCPDUMP_OPTIONS);
    guardProcess(child.pid);
    const capture = new TcpdumpCapture(child, options.file);
    await capture.waitListening();
    return capture;
  }

  private waitListening(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (error?: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (error === undefined) resolve();
        else reject(error);
      };
      const timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        finish(new CaptureError(`tcpdump did not report listening within ${START_TIMEOUT_MS / 1000} s: ${this.stderrTail()}`));
      }, START_TIMEOUT_MS);
      this.child.stderr.setEncoding('utf8');
      this.child.stderr.on('data', (chunk: string) => {
        this.stderr += chunk;
        if (/listening on /.test(this.stderr)) finish();
      });
      this.child.then((result) => {
        const failure = result.failed && 'code' in result && (result as { code?: string }).code === 'ENOENT';
        if (failure) {
          finish(new CaptureError(`tcpdump was not found: ${INSTALL_HINT}`, { exitCode: 2, cause: result }));
        } else if (/permission|not permitted|Operation not permitted/i.test(this.stderr)) {
          finish(new CaptureError(`tcpdump may not capture here (${this.stderrTail()}): ${PERMISSION_HINT}`, { exitCode: 2, cause: result }));
        } else {
          finish(new CaptureError(`tcpdump exited before listening (exit ${result.exitCode ?? result.signal}): ${this.stderrTail()}`, { cause: result }));
        }
      }, (error: unknown) => finish(new CaptureError(`tcpdump could not start: ${String(error)}`, { cause: error })));
    });
  }

  /** Stops tcpdump with SIGINT (it flushes the file), waits for it and parses its closing counts. Idempotent. */
  stop(): Promise<CaptureStats> {
    this.stopped ??= (async () => {
      this.stopping = true;
      this.child.kill('SIGINT');
      let forced = false;
      const timer = setTimeout(() => {
        forced = true;
        this.child.kill('SIGKILL');
      }, STOP_TIMEOUT_MS);
      const result = await this.child;
      clearTimeout(timer);
      const full = /No space left on device|Disk quota exceeded/i.exec(this.stderr);
      if (full !== null) throw cannotWrite(this.file, Object.assign(new Error(`ENOSPC: ${full[0].toLowerCase()}, write`), { code: 'ENOSPC' }));
      // A signal this run did not send (SIGINT asks tcpdump to flush and exit; SIGKILL only after the timeout).
      const early = this.exitedEarly ?? (result.signal !== undefined && result.signal !== 'SIGINT' && !forced ? { exitCode: result.exitCode, signal: result.signal } : null);
      if (early !== null) {
        const how = early.signal === undefined ? `exit code ${early.exitCode}` : `killed by ${early.signal}`;
        throw new CaptureError(`tcpdump stopped during the scenario, before it was asked to (${how}; not by this run): ${this.stderrTail()}; ${this.file} is incomplete`);
      }
      if (result.signal === 'SIGKILL') {
        throw new CaptureError(`tcpdump did not exit within ${STOP_TIMEOUT_MS / 1000} s of SIGINT and was killed; ${this.file} may be incomplete`);
      }
      return parseTcpdumpStats(this.stderr);
    })();
    return this.stopped;
  }

  private stderrTail(): string {
    const lines = this.stderr.trim().split('\n').filter((l) => !/^Running as user/.test(l));
    return lines.slice(-3).join(' / ') || '(no output)';
  }
}

/** The BPF filter of a capture: TCP to and from the given ports, on the given address when there is one. */
export function captureFilter(options: Pick<CaptureOptions, 'ports' | 'host' | 'nets'>): string {
  const host = options.host;
  const endpoint = (p: number) => (host === undefined ? `port ${p}` : `(src host ${host} and src port ${p}) or (dst host ${host} and dst port ${p})`);
  const ports = options.ports.length === 0 ? 'tcp' : `tcp and (${options.ports.map(endpoint).join(' or ')})`;
  const nets = options.nets ?? [];
  return nets.length === 0 ? ports : `${ports} and (${nets.map((n) => `net ${n}`).join(' or ')})`;
}

/** Parses tcpdump's closing lines ("N packets captured", "N packets received by filter", ...). */
export function parseTcpdumpStats(stderr: string): CaptureStats {
  const count = (label: string): number | null => {
    const match = new RegExp(`(\\d+) packets? ${label}`).exec(stderr);
    return match === null ? null : Number(match[1]);
  };
  const captured = count('captured');
  const received = count('received by filter');
  const dropped = count('dropped by kernel');
  if (captured === null || received === null || dropped === null) {
    throw new CaptureError(`tcpdump's closing counts are missing from its output: ${stderr.trim().split('\n').slice(-4).join(' / ')}`);
  }
  return {
    packetsCaptured: captured,
    packetsReceivedByFilter: received,
    packetsDroppedByKernel: dropped,
    packetsDroppedByInterface: count('dropped by interface') ?? 0,
  };
}

/**
 * Checks before the first scenario that tcpdump exists and may capture on `iface`: starts it on a port
 * nothing uses and stops it again. Throws a CaptureError with the fix otherwise.
 */
export async function checkCapture(iface: string, scratchFile: string): Promise<void> {
  const capture = await TcpdumpCapture.start({ iface, ports: [9], file: scratchFile });
  await capture.stop();
}

/** tcpdump's version line (`tcpdump version 4.99.3`), or null when it is not installed. */
export async function tcpdumpVersion(): Promise<string | null> {
  const result = await execa('tcpdump', ['--version'], { reject: false });
  if (result.failed && result.exitCode === undefined) return null;
  const line = `${result.stdout}\n${result.stderr}`.split('\n').find((l) => /^tcpdump version/.test(l));
  return line?.replace(/^tcpdump version\s*/, '').trim() ?? null;
}
