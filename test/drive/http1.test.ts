import { describe, expect, it } from 'vitest';
import { hostHeaderValue, MAX_HEADER_BYTES, ResponseParser, serializeRequest } from '../../bench/drive/http1.ts';
import type { AgentRequest } from '../../bench/model/index.ts';
import { TransportError } from '../../bench/drive/transport-error.ts';

function request(over: Partial<AgentRequest> = {}): AgentRequest {
  return {
    endpointIndex: 0,
    channel: 'config',
    api: 'config',
    path: '/api/v1/osquery/config',
    atVirtualMs: 0,
    headers: [
      ['Content-Type', 'application/json'],
      ['Accept', 'application/json'],
      ['User-Agent', 'osquery/5.12.1'],
    ],
    body: Buffer.from('{"node_key":"abc"}'),
    ...over,
  };
}

/** Feeds `text` one byte at a time, as the worst-case TLS record split would. */
function parseBytewise(text: string | Buffer): ReturnType<ResponseParser['push']> {
  const parser = new ResponseParser();
  const bytes = Buffer.from(text);
  let result = null;
  for (let i = 0; i < bytes.length; i += 1) {
    expect(result).toBeNull();
    result = parser.push(bytes.subarray(i, i + 1));
  }
  return result;
}

describe('serializeRequest', () => {
  it('writes the agent request byte for byte: headers, then Host and Content-Length, no Connection', () => {
    const wire = serializeRequest(request(), hostHeaderValue('localhost', 8443)).toString('latin1');
    expect(wire).toBe(
      'POST /api/v1/osquery/config HTTP/1.1\r\n' +
        'Content-Type: application/json\r\n' +
        'Accept: application/json\r\n' +
        'User-Agent: osquery/5.12.1\r\n' +
        'Host: localhost:8443\r\n' +
        'Content-Length: 18\r\n' +
        '\r\n' +
        '{"node_key":"abc"}',
    );
  });

  it('omits the port for 443 and brackets IPv6 literals', () => {
    expect(hostHeaderValue('localhost', 443)).toBe('localhost');
    expect(hostHeaderValue('::1', 8443)).toBe('[::1]:8443');
  });

  it('keeps a given Host, recomputes Content-Length, and sends binary bodies untouched', () => {
    const body = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0xff, 0x0d, 0x0a]);
    const wire = serializeRequest(
      request({ headers: [['Host', 'other:1'], ['Content-Length', '999'], ['Content-Encoding', 'gzip']], body }),
      'localhost:8443',
    );
    const head = 'POST /api/v1/osquery/config HTTP/1.1\r\nHost: other:1\r\nContent-Encoding: gzip\r\nContent-Length: 7\r\n\r\n';
    expect(wire.equals(Buffer.concat([Buffer.from(head, 'latin1'), body]))).toBe(true);
  });

  it('refuses header injection and a non-origin path', () => {
    expect(() => serializeRequest(request({ headers: [['X', 'a\r\nEvil: 1']] }), 'h')).toThrow(TransportError);
    expect(() => serializeRequest(request({ headers: [['Bad Name', 'x']] }), 'h')).toThrow(TransportError);
    expect(() => serializeRequest(request({ path: 'http://x/' }), 'h')).toThrow(TransportError);
  });
});

describe('ResponseParser', () => {
  it('reads a Content-Length body split at every byte', () => {
    const response = parseBytewise('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\nhello');
    expect(response).not.toBeNull();
    expect(response?.status).toBe(200);
    expect(response?.reason).toBe('OK');
    expect(response?.body.toString()).toBe('hello');
    expect(response?.headers).toEqual([['Content-Type', 'application/json'], ['Content-Length', '5']]);
    expect(response?.closeAfter).toBe(false);
    expect(response?.framingBytes).toBe(70);
  });

  it('decodes chunked bodies with extensions and trailers, split at every byte', () => {
    const wire = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;name=v\r\nWiki\r\n0b\r\npedia in ch\r\n0\r\nX-T: 1\r\n\r\n';
    const response = parseBytewise(wire);
    expect(response?.body.toString()).toBe('Wikipedia in ch');
    expect(response?.framingBytes).toBe(Buffer.byteLength(wire) - 15);
  });

  it('skips interim 1xx heads and reads 204 without a body', () => {
    const response = parseBytewise('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX-A: b\r\n\r\n');
    expect(response?.status).toBe(204);
    expect(response?.headers).toEqual([['X-A', 'b']]);
    expect(response?.body.length).toBe(0);
  });

  it('honours Connection: close and HTTP/1.0 without keep-alive', () => {
    expect(parseBytewise('HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 0\r\n\r\n')?.closeAfter).toBe(true);
    expect(parseBytewise('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n')?.closeAfter).toBe(true);
    expect(parseBytewise('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n')?.closeAfter).toBe(false);
  });

  it('reads a body without length until the server closes', () => {
    const parser = new ResponseParser();
    expect(parser.push(Buffer.from('HTTP/1.1 200 OK\r\n\r\nabc'))).toBeNull();
    expect(parser.push(Buffer.from('def'))).toBeNull();
    const response = parser.end();
    expect(response.body.toString()).toBe('abcdef');
    expect(response.closeAfter).toBe(true);
  });

  it('fails on EOF before or inside a response', () => {
    expect(() => new ResponseParser().end()).toThrow(/before any response byte/);
    const head = new ResponseParser();
    head.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Le'));
    expect(() => head.end()).toThrow(/middle of the response head/);
    const body = new ResponseParser();
    body.push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
    expect(() => body.end()).toThrow(/middle of the response body/);
  });

  it.each([
    ['a bad status line', 'HTTP/2 200 OK\r\n\r\n', /bad status line/],
    ['conflicting Content-Length values', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', /Content-Length/],
    ['a negative Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n', /Content-Length/],
    ['obsolete line folding', 'HTTP/1.1 200 OK\r\nX-A: 1\r\n folded\r\nContent-Length: 0\r\n\r\n', /bad header line/],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', /bad chunk size/],
    ['chunk data without CRLF', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\naXX', /CRLF/],
    ['bytes after the response', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naEXTRA', /after a complete response/],
    ['an unasked protocol switch', 'HTTP/1.1 101 Switching Protocols\r\n\r\n', /101/],
  ])('rejects %s', (_what, wire, message) => {
    expect(() => new ResponseParser().push(Buffer.from(wire))).toThrow(message);
  });

  it('caps the head size', () => {
    const parser = new ResponseParser();
    parser.push(Buffer.from('HTTP/1.1 200 OK\r\n'));
    expect(() => parser.push(Buffer.alloc(MAX_HEADER_BYTES, 'a'))).toThrow(/response head longer/);
  });

  it('caps the body size before reading it', () => {
    expect(() => new ResponseParser().push(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\n'))).toThrow(
      /body larger/,
    );
  });
});
