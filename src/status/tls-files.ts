import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { LookoutError } from '../core/errors.js';

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** What `https.createServer` takes: the PEM certificate (chain) and its unencrypted PEM private key. */
export interface TlsPair {
  readonly cert: Buffer;
  readonly key: Buffer;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----/;
const PEM_PRIVATE_KEY = /-----BEGIN (?:RSA |EC |ENCRYPTED )?PRIVATE KEY-----/;

function refuse(path: string, message: string, cause?: unknown): LookoutError {
  const problem = `status.tls.${path}: ${message}`;
  return new LookoutError('CONFIG_INVALID', problem, { details: { problems: [problem] }, ...(cause === undefined ? {} : { cause }) });
}

async function read(path: 'certFile' | 'keyFile', file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw refuse(path, `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, err);
  }
}

/**
 * Reads the status server's certificate and key, and refuses (CONFIG_INVALID, naming the key and the
 * file) anything but a PEM certificate with the unencrypted PEM private key that belongs to it, so a
 * mistake is told at start-up rather than as a failed handshake in an operator's browser.
 */
export async function readTlsPair(files: TlsFiles): Promise<TlsPair> {
  const cert = await read('certFile', files.certFile);
  const key = await read('keyFile', files.keyFile);
  let certificate: X509Certificate;
  try {
    if (!PEM_CERTIFICATE.test(cert.toString('latin1'))) throw new Error('no PEM certificate block');
    certificate = new X509Certificate(cert);
  } catch (err) {
    throw refuse('certFile', `${files.certFile} is not a PEM certificate`, err);
  }
  let privateKey: KeyObject;
  try {
    if (!PEM_PRIVATE_KEY.test(key.toString('latin1'))) throw new Error('no PEM private key block');
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw refuse('keyFile', `${files.keyFile} is not an unencrypted PEM private key`, err);
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw refuse('keyFile', `${files.keyFile} is not the private key of the certificate in ${files.certFile}`);
  }
  return { cert, key };
}
