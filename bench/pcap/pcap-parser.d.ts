/**
 * Types for pcap-parser 0.2.1 (node_modules/pcap-parser/lib/pcap-parser.js), which ships none: only the
 * events and fields `classic.ts` relies on.
 */
declare module 'pcap-parser' {
  import type { EventEmitter } from 'node:events';

  /** The 24-byte global header, decoded in the file's byte order. */
  export interface GlobalHeader {
    magicNumber: number;
    majorVersion: number;
    minorVersion: number;
    gmtOffset: number;
    timestampAccuracy: number;
    snapshotLength: number;
    linkLayerType: number;
  }

  /** The 16-byte record header. `timestampMicroseconds` is simply the fraction field as stored. */
  export interface PacketHeader {
    timestampSeconds: number;
    timestampMicroseconds: number;
    capturedLength: number;
    originalLength: number;
  }

  export interface ParsedPacket {
    header: PacketHeader;
    /** A slice of the parser's buffer holding exactly `header.capturedLength` bytes. */
    data: Buffer;
  }

  /** Emits `globalHeader`, then per packet `packetHeader` (before its body is buffered) and `packet`. */
  export interface Parser extends EventEmitter {
    on(event: 'globalHeader', listener: (header: GlobalHeader) => void): this;
    on(event: 'packetHeader', listener: (header: PacketHeader) => void): this;
    on(event: 'packet', listener: (packet: ParsedPacket) => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
    on(event: 'end', listener: () => void): this;
  }

  const pcapParser: {
    /** Reads a path, or any stream emitting Buffers, in flowing mode. */
    parse(input: string | NodeJS.ReadableStream): Parser;
  };
  export default pcapParser;
}
