import { describe, expect, it } from 'vitest';
import { parseClientHello, parseServerHello } from '../../bench/tls/handshake.ts';
import { RFC8448_HELLO_RETRY, RFC8448_SIMPLE } from './support/rfc8448.ts';

/** The body of the one handshake message in a plaintext handshake record given as hex. */
function helloBody(recordHex: string): Buffer {
  const record = Buffer.from(recordHex, 'hex');
  const length = record.readUIntBE(6, 3);
  expect(record.length).toBe(5 + 4 + length);
  return record.subarray(9);
}

const rfcRecord = (trace: { records: readonly { name: string; hex: string }[] }, name: string): string => {
  const found = trace.records.find((r) => r.name === name);
  if (found === undefined) throw new Error(`no record ${name}`);
  return found.hex;
};

const clientHelloBody = helloBody(rfcRecord(RFC8448_SIMPLE, 'ClientHello'));
const serverHelloBody = helloBody(rfcRecord(RFC8448_SIMPLE, 'ServerHello'));
const helloRetryBody = helloBody(rfcRecord(RFC8448_HELLO_RETRY, 'HelloRetryRequest'));

/** Offset of the extensions block: after version, random, session id, suites (client) and compression. */
function clientExtensionsAt(body: Buffer): number {
  let at = 2 + 32;
  at += 1 + body[at]!;
  at += 2 + body.readUInt16BE(at);
  return at + 1 + body[at]!;
}

describe('hello parsers on the RFC 8448 trace', () => {
  it('reads the ClientHello', () => {
    const hello = parseClientHello(clientHelloBody);
    expect(hello).not.toBeNull();
    expect(hello!.random).toBe(RFC8448_SIMPLE.clientRandom);
    expect(hello!.sessionId).toBe('');
    expect(hello!.serverName).toBe('server');
    expect(hello!.offersEarlyData).toBe(false);
  });

  it('copies what it keeps: the body may be a reader buffer that is reused', () => {
    const sessionId = Buffer.alloc(32, 0x5a);
    const body = Buffer.from(clientHelloBody);
    // The trace's ClientHello offers no session id: give it one (its length byte follows the random).
    const withSessionId = Buffer.concat([body.subarray(0, 34), Buffer.from([32]), sessionId, body.subarray(35)]);
    const hello = parseClientHello(withSessionId)!;
    withSessionId.fill(0);
    expect(hello.random).toBe(RFC8448_SIMPLE.clientRandom);
    expect(hello.sessionId).toBe(sessionId.toString('hex'));
  });

  it('leaves the random unread unless asked for it (it is only needed to search a key log)', () => {
    const hello = parseClientHello(clientHelloBody, 0, clientHelloBody.length, false);
    expect(hello).toEqual({ ...parseClientHello(clientHelloBody), random: null });
  });

  it('reads a hello given by its bounds in a larger buffer, and nothing outside them', () => {
    const embed = (body: Buffer) => Buffer.concat([Buffer.alloc(9, 0x16), body, Buffer.alloc(40, 0x2b)]);
    expect(parseClientHello(embed(clientHelloBody), 9, 9 + clientHelloBody.length)).toEqual(parseClientHello(clientHelloBody));
    expect(parseServerHello(embed(serverHelloBody), 9, 9 + serverHelloBody.length)).toEqual(parseServerHello(serverHelloBody));
    // One byte short of the body, with plausible bytes after it: malformed, not read past the bound.
    expect(parseServerHello(embed(serverHelloBody), 9, 9 + serverHelloBody.length - 1)).toBeNull();
  });

  it('reads the ServerHello and the HelloRetryRequest', () => {
    expect(parseServerHello(serverHelloBody)).toEqual({
      legacyVersion: 0x0303,
      version: 0x0304,
      sessionId: '',
      cipherSuite: 0x1301,
      helloRetryRequest: false,
      preSharedKey: false,
    });
    expect(parseServerHello(helloRetryBody)).toMatchObject({ version: 0x0304, helloRetryRequest: true });
  });

  it('rejects every truncation of a hello, except one that ends where the optional extensions begin', () => {
    const clientValidAt = clientExtensionsAt(clientHelloBody);
    for (let n = 0; n < clientHelloBody.length; n++) {
      const hello = parseClientHello(clientHelloBody.subarray(0, n));
      if (n === clientValidAt) expect(hello).toMatchObject({ serverName: null, offersEarlyData: false });
      else expect(hello, `ClientHello cut to ${n} bytes`).toBeNull();
    }
    // ServerHello: version, random, session id (empty here), suite, compression; then the extensions.
    const serverValidAt = 2 + 32 + 1 + serverHelloBody[34]! + 3;
    for (let n = 0; n < serverHelloBody.length; n++) {
      const hello = parseServerHello(serverHelloBody.subarray(0, n));
      if (n === serverValidAt) expect(hello).toMatchObject({ version: 0x0303, cipherSuite: 0x1301 });
      else expect(hello, `ServerHello cut to ${n} bytes`).toBeNull();
    }
  });

  it('rejects a length that runs past its enclosing vector, at every level', () => {
    const at = clientExtensionsAt(clientHelloBody);
    const overrun = (offset: number): Buffer => {
      const body = Buffer.from(clientHelloBody);
      body.writeUInt16BE(body.readUInt16BE(offset) + 1, offset);
      return body;
    };
    // The extensions block, the first extension (server_name), its name list and its host name.
    expect(clientHelloBody.readUInt16BE(at + 2)).toBe(0); // server_name comes first in the trace
    for (const offset of [at, at + 4, at + 6, at + 9]) expect(parseClientHello(overrun(offset)), `offset ${offset}`).toBeNull();
    // A supported_versions extension too short for its version.
    const server = Buffer.from(serverHelloBody);
    const versions = server.indexOf(Buffer.from([0x00, 0x2b, 0x00, 0x02]));
    expect(versions).toBeGreaterThan(0);
    server.writeUInt16BE(0x002a, versions); // early_data: any length is fine, and the version stays 1.2
    expect(parseServerHello(server)).toMatchObject({ version: 0x0303 });
    server.writeUInt16BE(0x002b, versions);
    server.writeUInt16BE(1, versions + 2);
    expect(parseServerHello(server)).toBeNull();
  });
});
