/**
 * The agent API's response bodies, from `fixtures/api/`. Both servers send the same bytes: the fixtures are
 * kept pretty-printed for reading and minified here (a JSON server sends compact JSON; the ~11 KB config of
 * the field report is its compact size).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { InputError } from '../errors.ts';
import { isObject } from '../input/shape.ts';
import { repoPath } from '../paths.ts';
import { fitConfig } from '../workload/fit.ts';

/** `fixtures/api/` of this checkout. */
export const DEFAULT_API_DIR = repoPath('fixtures/api/');

/** The responses the API can give, by name; each is `<name>.json` in the fixture folder. */
export const RESPONSE_NAMES = [
  'enroll', 'config', 'log', 'distributed_read', 'distributed_read_query', 'distributed_write',
] as const;

/** One of {@link RESPONSE_NAMES}: `distributed_read_query` is the read that hands the agent a query. */
export type ResponseName = (typeof RESPONSE_NAMES)[number];

/** A response body, plain and gzipped. */
export interface ResponseBody {
  json: Buffer;
  gzip: Buffer;
}

/** nginx's default `gzip_comp_level`; the embedded server compresses responses the same way. */
export const RESPONSE_GZIP_LEVEL = 1;

/**
 * Reads, validates and minifies every response body; the config's is `configResponseBytes` long when given.
 * @throws InputError naming the file when one is missing or not JSON.
 */
export async function loadResponseBodies(dir: string = DEFAULT_API_DIR, configResponseBytes?: number): Promise<Record<ResponseName, ResponseBody>> {
  const out = {} as Record<ResponseName, ResponseBody>;
  for (const name of RESPONSE_NAMES) {
    const file = path.join(dir, `${name}.json`);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new InputError(`${file}: cannot read the API response fixture (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new InputError(`${file}: $: not valid JSON (${(error as Error).message})`, { cause: error });
    }
    // The sensitivity sweep's config size (a workload's `config.responseBytes`): the fixture cut or grown to it.
    const sized = name === 'config' && configResponseBytes !== undefined && isObject(value) ? fitConfig(value, configResponseBytes) : value;
    const json = Buffer.from(JSON.stringify(sized), 'utf8');
    out[name] = { json, gzip: gzipSync(json, { level: RESPONSE_GZIP_LEVEL }) };
  }
  return out;
}
