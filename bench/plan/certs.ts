/**
 * The certificate files of a run, checked once before it starts (STYLE.md §5): a garbage PEM, a README given
 * as `--key`, a key that is not the chain's, a chain the root does not verify, or a path nginx cannot be given
 * would otherwise fail every scenario one by one, with a stack trace each.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.ts';
import type { ServerKind } from '../model/index.ts';
import type { CertFiles } from './resolve.ts';

/** The name the client connects to and verifies (SNI and the certificate's subject). */
export const SERVER_NAME = 'localhost';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** The certificates of a PEM file, in order; UsageError naming `flag` when it holds none or a broken one. */
function certificates(flag: string, file: string, text: string): X509Certificate[] {
  const blocks = text.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new UsageError(`${flag}: ${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new UsageError(`${flag}: ${file}: certificate ${i + 1} cannot be read (${(error as Error).message})`, { cause: error });
    }
  });
}

/**
 * Checks one chain: every file parses, the key is the leaf's, each certificate is signed by the next and the
 * last by the root, and the leaf names `localhost`. With nginx among the servers, the paths must also be
 * writable into nginx.conf. Throws UsageError (exit 2) naming the flag.
 */
export async function checkCertFiles(files: CertFiles, servers: readonly ServerKind[]): Promise<void> {
  const read = async (flag: string, file: string) => {
    const bytes = await readFile(file);
    if (bytes.includes(0)) throw new UsageError(`${flag}: ${file} is a binary file, expected PEM text`);
    return bytes.toString('utf8');
  };
  const chain = certificates('--cert', files.chain, await read('--cert', files.chain));
  const roots = certificates('--ca', files.ca, await read('--ca', files.ca));
  let key;
  try {
    key = createPrivateKey(await read('--key', files.key));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--key: ${files.key} is not a PEM private key (${(error as Error).message})`, { cause: error });
  }
  const leaf = chain[0]!;
  if (!leaf.checkPrivateKey(key)) throw new UsageError(`--key: ${files.key} is not the private key of the first certificate in ${files.chain}`);
  for (let i = 0; i + 1 < chain.length; i++) {
    if (!chain[i]!.verify(chain[i + 1]!.publicKey)) {
      throw new UsageError(`--cert: ${files.chain}: certificate ${i + 1} (${chain[i]!.subject.replace(/\n/g, ', ')}) is not signed by certificate ${i + 2}`);
    }
  }
  const last = chain.at(-1)!;
  if (!roots.some((root) => last.verify(root.publicKey))) {
    throw new UsageError(`--ca: ${files.ca} does not verify ${files.chain} (its last certificate, ${last.issuer.replace(/\n/g, ', ')}, is signed by none of its certificates)`);
  }
  if (leaf.checkHost(SERVER_NAME) === undefined) {
    throw new UsageError(`--cert: ${files.chain}: the first certificate is not valid for ${SERVER_NAME}, the name the client connects to (add DNS:${SERVER_NAME} to its subjectAltName)`);
  }
  if (servers.includes('nginx')) {
    for (const [flag, file] of [['--cert', files.chain], ['--key', files.key]] as const) {
      // nginx.conf strings end at a quote, and `$` starts a variable there.
      if (/["\\$\n]/.test(file)) throw new UsageError(`${flag}: ${file}: a path given to nginx must not contain ", \\, $ or a newline (copy the file to a plain path)`);
    }
  }
}
