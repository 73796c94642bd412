/** Temp folders and PNG inspection for the report tests. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createCanvas, loadImage } from 'canvas';

/** A fresh temp folder and its removal. */
export function tempDir(prefix = 'tls-reuse-bench-report-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The 8-byte PNG signature (PNG spec §5.2). */
export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Width and height from the IHDR chunk, which must come first (PNG spec §5.6): after the signature, a 4-byte
 * length (13), the type `IHDR`, then width and height as big-endian 32-bit integers at offsets 16 and 20.
 */
export function pngSize(png: Buffer): { width: number; height: number } {
  if (!png.subarray(0, 8).equals(PNG_SIGNATURE)) throw new Error('not a PNG: bad signature');
  if (png.toString('latin1', 12, 16) !== 'IHDR' || png.readUInt32BE(8) !== 13) throw new Error('not a PNG: IHDR is not the first chunk');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/**
 * Decodes a PNG and counts its coloured pixels (channel spread above 60: the mode and category colours, not
 * the grey of text, axes and grid lines); also returns the top-left pixel.
 */
export async function colouredPixels(png: Buffer): Promise<{ coloured: number; total: number; corner: number[] }> {
  const image = await loadImage(png);
  const canvas = createCanvas(image.width, image.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(image, 0, 0);
  const { data } = ctx.getImageData(0, 0, image.width, image.height);
  let coloured = 0;
  for (let i = 0; i < data.length; i += 4) {
    const r = data[i]!;
    const g = data[i + 1]!;
    const b = data[i + 2]!;
    if (Math.max(r, g, b) - Math.min(r, g, b) > 60) coloured++;
  }
  return { coloured, total: image.width * image.height, corner: [data[0]!, data[1]!, data[2]!, data[3]!] };
}
