/**
 * The probe's deterministic payload: AES-128-CTR applied to zeros, keyed by the seed. Fast (hundreds of
 * MB/s), so a bulk transfer is limited by the link and not by making its bytes, and both ends can make the
 * same bytes from the seed alone.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';

/** Bytes made per chunk: large enough to keep a socket's send buffer full. */
const CHUNK_BYTES = 64 * 1024;

/** `bytes` bytes of the probe payload for `seed`, as a stream. */
export function probeStream(seed: number, bytes: number): Readable {
  const key = createHash('sha256').update(`probe/${seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  const zeros = Buffer.alloc(CHUNK_BYTES);
  let left = bytes;
  return new Readable({
    read() {
      if (left === 0) {
        this.push(null);
        return;
      }
      const n = Math.min(left, CHUNK_BYTES);
      left -= n;
      this.push(cipher.update(zeros.subarray(0, n)));
    },
  });
}

/** SHA-256 (hex) of `bytes` bytes of the probe payload for `seed`. */
export async function probeDigest(seed: number, bytes: number): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of probeStream(seed, bytes)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
