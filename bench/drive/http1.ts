/**
 * HTTP/1.1 as the agent speaks it, written by hand on the TLS socket.
 *
 * Why not `node:http`: its Agent adds `Connection: keep-alive` (the agent sends no Connection header), it
 * notices a server's FIN on an idle socket and silently drops that socket (the agent only learns at its next
 * write, AGENT-FACTS.md), and it hides the TCP socket's life, so neither the raw byte counters nor the
 * connect/handshake timestamps would be ours. The request side mirrors Boost.Beast as osquery drives it
 * (osquery/remote/http_client.cpp, `Client::sendRequest`); the response side is a small strict parser with
 * size caps, since Node has no public HTTP parser.
 */

import type { AgentRequest } from '../model/index.ts';
import { TransportError } from './transport-error.ts';

/** Largest response head (status line, headers, interim 1xx heads, chunked trailers) accepted. */
export const MAX_HEADER_BYTES = 64 * 1024;
/** Largest response body accepted; the agent API's biggest answer (a config) is tens of kilobytes. */
export const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** Longest chunk-size line (hex size plus extensions) accepted. */
const MAX_CHUNK_LINE_BYTES = 4096;
/** Eight hex digits: 4 GiB, far above MAX_BODY_BYTES, and still exact in a double. */
const MAX_CHUNK_SIZE_DIGITS = 8;

const CRLF = '\r\n';
/** RFC 9110 §5.6.2 token characters. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: (.*))?$/;
const HEADER_LINE = /^([^:\s]+):[ \t]*(.*?)[ \t]*$/;

/**
 * The Host header value the agent sends: its `--tls_hostname`, with `:port` unless the port is 443
 * (`Client::sendRequest`). IPv6 literals get brackets (RFC 9110 §7.2).
 */
export function hostHeaderValue(hostname: string, port: number): string {
  const host = hostname.includes(':') ? `[${hostname}]` : hostname;
  return port === 443 ? host : `${host}:${port}`;
}

/**
 * Serializes one request byte-exact to the agent: `POST <path> HTTP/1.1`, the request's headers in order,
 * then `Host` and `Content-Length`. That order is Beast's: osquery sets Content-Type, Accept, User-Agent
 * (and Content-Encoding, Authorization) on the request first, then `sendRequest` appends Host only when the
 * request has none, and `prepare_payload()` appends Content-Length (replacing any given one). No Connection
 * header: `keep_alive(true)` on HTTP/1.1 only removes a `close` token.
 *
 * @param hostHeader the value from {@link hostHeaderValue}
 * @throws TransportError (phase `protocol`) for a path or header that would break the request framing
 */
export function serializeRequest(req: AgentRequest, hostHeader: string): Buffer {
  if (!req.path.startsWith('/') || /[\s\x00-\x1f\x7f]/.test(req.path)) {
    throw new TransportError('protocol', `request path ${JSON.stringify(req.path)} is not an origin-form target`);
  }
  const lines = [`POST ${req.path} HTTP/1.1`];
  let hasHost = false;
  for (const [name, value] of req.headers) {
    if (!TOKEN.test(name) || /[\r\n\0]/.test(value)) {
      throw new TransportError('protocol', `request header ${JSON.stringify(name)} cannot be sent as is`);
    }
    const lower = name.toLowerCase();
    if (lower === 'content-length') continue;
    if (lower === 'host') hasHost = true;
    lines.push(`${name}: ${value}`);
  }
  if (!hasHost) lines.push(`Host: ${hostHeader}`);
  lines.push(`Content-Length: ${req.body.length}`);
  const head = Buffer.from(lines.join(CRLF) + CRLF + CRLF, 'latin1');
  return Buffer.concat([head, req.body]);
}

/** A complete response. */
export interface HttpResponse {
  /** Minor version of the status line: `HTTP/1.<minor>`. */
  minorVersion: 0 | 1;
  status: number;
  reason: string;
  /** Header fields in the order received (the final response's, not an interim 1xx's). */
  headers: [name: string, value: string][];
  /** The body after removing chunked framing. */
  body: Buffer;
  /** Bytes of response head, interim heads and chunk framing: everything read that is not body. */
  framingBytes: number;
  /** The connection cannot carry another request: `Connection: close`, HTTP/1.0 without keep-alive, or a
   * body delimited by the end of the connection. */
  closeAfter: boolean;
}

function headTooLong(): TransportError {
  return new TransportError('protocol', `response head longer than ${MAX_HEADER_BYTES} bytes`);
}

type ParserState = 'head' | 'length' | 'chunk-size' | 'chunk-data' | 'chunk-crlf' | 'trailers' | 'until-eof' | 'done';

/**
 * Incremental parser of one HTTP/1.x response (RFC 9112). Feed it the decrypted bytes with {@link push};
 * it returns the response once complete. Message length follows RFC 9112 §6.3: 1xx/204/304 have no body,
 * chunked transfer coding wins over Content-Length, differing Content-Length values are an error, otherwise
 * the body runs until the server closes (completed by {@link end}).
 */
export class ResponseParser {
  private state: ParserState = 'head';
  private buffered: Buffer = Buffer.alloc(0);
  private headBytes = 0;
  private framingBytes = 0;
  private remaining = 0;
  private bodyBytes = 0;
  private readonly bodyChunks: Buffer[] = [];
  private response: Omit<HttpResponse, 'body' | 'framingBytes'> | null = null;

  private receivedBytes = 0;

  /**
   * Adds received bytes.
   * @returns the response when these bytes completed it, else null
   * @throws TransportError (phase `protocol`) on a malformed or oversized response, or bytes after it
   */
  push(chunk: Buffer): HttpResponse | null {
    if (this.state === 'done') {
      throw new TransportError('protocol', `server sent ${chunk.length} bytes after a complete response`);
    }
    this.receivedBytes += chunk.length;
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    return this.advance();
  }

  /**
   * The server closed its side (TLS close_notify or TCP FIN).
   * @returns the response when its body is delimited by the close
   * @throws TransportError (phase `read`) when the response is missing or incomplete
   */
  end(): HttpResponse {
    if (this.state === 'until-eof') return this.complete();
    let where = 'in the middle of the response body';
    if (this.receivedBytes === 0) where = 'before any response byte';
    else if (this.response === null) where = 'in the middle of the response head';
    throw new TransportError('read', `server closed the connection ${where} (EOF)`);
  }

  private advance(): HttpResponse | null {
    for (;;) {
      switch (this.state) {
        case 'head': {
          const end = this.buffered.indexOf(CRLF + CRLF);
          if (end < 0) {
            if (this.headBytes + this.buffered.length > MAX_HEADER_BYTES) throw headTooLong();
            return null;
          }
          this.countHead(end + 4);
          const head = this.buffered.subarray(0, end).toString('latin1');
          this.consume(end + 4);
          if (this.parseHead(head)) return this.complete();
          break;
        }
        case 'length':
        case 'chunk-data': {
          if (this.buffered.length === 0) return null;
          this.takeBody(Math.min(this.remaining, this.buffered.length));
          if (this.remaining > 0) return null;
          if (this.state === 'length') return this.complete();
          this.state = 'chunk-crlf';
          break;
        }
        case 'chunk-crlf': {
          if (this.buffered.length < 2) return null;
          if (this.buffered[0] !== 0x0d || this.buffered[1] !== 0x0a) {
            throw new TransportError('protocol', 'chunk data not followed by CRLF');
          }
          this.consume(2);
          this.state = 'chunk-size';
          break;
        }
        case 'chunk-size': {
          const line = this.takeLine(MAX_CHUNK_LINE_BYTES, 'chunk-size line');
          if (line === null) return null;
          const sizeText = (line.split(';')[0] ?? '').trim();
          if (!/^[0-9a-fA-F]+$/.test(sizeText) || sizeText.length > MAX_CHUNK_SIZE_DIGITS) {
            throw new TransportError('protocol', `bad chunk size ${JSON.stringify(line.slice(0, 40))}`);
          }
          const size = Number.parseInt(sizeText, 16);
          if (size === 0) {
            this.state = 'trailers';
          } else {
            this.checkBodySize(this.bodyBytes + size);
            this.remaining = size;
            this.state = 'chunk-data';
          }
          break;
        }
        case 'trailers': {
          const line = this.takeLine(MAX_HEADER_BYTES - this.headBytes, 'trailer section');
          if (line === null) return null;
          this.countHead(line.length + 2);
          if (line === '') return this.complete();
          break;
        }
        case 'until-eof': {
          this.checkBodySize(this.bodyBytes + this.buffered.length);
          this.takeBody(this.buffered.length);
          return null;
        }
        case 'done':
          throw new TransportError('protocol', 'response parser used after completion');
      }
    }
  }

  /** Parses a head and picks the body framing; returns true when the response has no body at all. */
  private parseHead(head: string): boolean {
    const lines = head.split(CRLF);
    const statusLine = lines[0] ?? '';
    const status = STATUS_LINE.exec(statusLine);
    if (status === null) {
      throw new TransportError('protocol', `bad status line ${JSON.stringify(statusLine.slice(0, 80))}`);
    }
    const minorVersion = status[1] === '0' ? 0 : 1;
    const code = Number(status[2]);
    const headers: [string, string][] = [];
    for (const line of lines.slice(1)) {
      // Obsolete line folding (RFC 9112 §5.2) and any non-token name are rejected, not guessed at.
      const field = HEADER_LINE.exec(line);
      if (field === null || !TOKEN.test(field[1] ?? '')) {
        throw new TransportError('protocol', `bad header line ${JSON.stringify(line.slice(0, 80))}`);
      }
      headers.push([field[1] ?? '', field[2] ?? '']);
    }
    if (code === 101) throw new TransportError('protocol', 'server switched protocols (101) unasked');
    if (code < 200) return false; // interim response (100 Continue, 103 Early Hints): the real one follows

    const values = (name: string): string[] =>
      headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
    const tokens = (name: string): string[] =>
      values(name).flatMap((v) => v.split(',')).map((t) => t.trim().toLowerCase()).filter((t) => t !== '');
    const connection = tokens('connection');
    let closeAfter = connection.includes('close') || (minorVersion === 0 && !connection.includes('keep-alive'));

    const transferCodings = tokens('transfer-encoding');
    const lengths = [...new Set(values('content-length').flatMap((v) => v.split(',')).map((v) => v.trim()))];
    if (code === 204 || code === 304) {
      this.state = 'done';
    } else if (transferCodings.length > 0) {
      // RFC 9112 §6.3 item 4: chunked as the final coding frames the body; any other coding runs to the close.
      if (transferCodings[transferCodings.length - 1] === 'chunked') {
        this.state = 'chunk-size';
      } else {
        this.state = 'until-eof';
        closeAfter = true;
      }
    } else if (lengths.length > 0) {
      const only = lengths[0] ?? '';
      if (lengths.length > 1 || !/^\d{1,15}$/.test(only)) {
        throw new TransportError('protocol', `bad Content-Length ${JSON.stringify(values('content-length'))}`);
      }
      this.remaining = Number(only);
      this.checkBodySize(this.remaining);
      this.state = this.remaining === 0 ? 'done' : 'length';
    } else {
      this.state = 'until-eof';
      closeAfter = true;
    }
    this.response = { minorVersion, status: code, reason: status[3] ?? '', headers, closeAfter };
    return this.state === 'done';
  }

  private complete(): HttpResponse {
    if (this.response === null) throw new TransportError('protocol', 'response completed without a head');
    if (this.buffered.length > 0) {
      throw new TransportError('protocol', `server sent ${this.buffered.length} bytes after a complete response`);
    }
    this.state = 'done';
    return { ...this.response, body: Buffer.concat(this.bodyChunks), framingBytes: this.framingBytes };
  }

  /** Takes one CRLF-terminated line as latin1, or returns null when it has not fully arrived. */
  private takeLine(maxBytes: number, what: string): string | null {
    const eol = this.buffered.indexOf(CRLF);
    const length = eol < 0 ? this.buffered.length : eol;
    if (length > maxBytes) throw new TransportError('protocol', `${what} longer than ${maxBytes} bytes`);
    if (eol < 0) return null;
    const line = this.buffered.subarray(0, eol).toString('latin1');
    this.consume(eol + 2);
    return line;
  }

  private takeBody(count: number): void {
    this.bodyChunks.push(this.buffered.subarray(0, count));
    this.bodyBytes += count;
    this.remaining -= count;
    this.buffered = this.buffered.subarray(count);
  }

  /** Drops framing bytes (heads, CRLFs, chunk lines) from the buffer, counting them. */
  private consume(count: number): void {
    this.framingBytes += count;
    this.buffered = this.buffered.subarray(count);
  }

  /** Counts `bytes` of head (final, interim or trailer) against MAX_HEADER_BYTES. */
  private countHead(bytes: number): void {
    if (this.headBytes + bytes > MAX_HEADER_BYTES) throw headTooLong();
    this.headBytes += bytes;
  }

  private checkBodySize(bytes: number): void {
    if (bytes > MAX_BODY_BYTES) {
      throw new TransportError('protocol', `response body larger than ${MAX_BODY_BYTES} bytes`);
    }
  }
}
