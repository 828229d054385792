import { createHash, createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { LookoutError } from '../../core/errors.js';

export interface ClientCredentials {
  /** Our certificate, DER. */
  readonly certificate: Buffer;
  readonly privateKey: KeyObject;
  /** From the certificate's subjectAltName: the server checks our ApplicationDescription against it. */
  readonly applicationUri: string;
  /** SHA-256 of each trusted server certificate's DER. */
  readonly trusted: ReadonlySet<string>;
}

export function fingerprint(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}

/** Reads our certificate and key and the trusted server certificates; anything unusable is OPCUA_UNTRUSTED naming the file. */
export async function readCredentials(files: { certificateFile: string; privateKeyFile: string; trustedServerCertificates?: string | undefined }): Promise<ClientCredentials> {
  const cert = await readCertificate(files.certificateFile);
  const applicationUri = cert.subjectAltName?.match(/URI:([^,\s]+)/)?.[1];
  if (!applicationUri) throw new LookoutError('OPCUA_UNTRUSTED', `${files.certificateFile}: no application URI (subjectAltName URI:…) in the certificate; OPC UA servers refuse it`);
  if (cert.publicKey.asymmetricKeyType !== 'rsa') throw new LookoutError('OPCUA_UNTRUSTED', `${files.certificateFile}: OPC UA security policies need an RSA key, not ${cert.publicKey.asymmetricKeyType}`);
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(await readFile(files.privateKeyFile));
  } catch (err) {
    throw new LookoutError('OPCUA_UNTRUSTED', `${files.privateKeyFile}: not a usable private key`, { cause: err });
  }
  if (!cert.checkPrivateKey(privateKey)) throw new LookoutError('OPCUA_UNTRUSTED', `${files.privateKeyFile} is not the key of ${files.certificateFile}`);
  const trusted = new Set<string>();
  for (const file of files.trustedServerCertificates ? await certificateFiles(files.trustedServerCertificates) : []) trusted.add(fingerprint(Buffer.from((await readCertificate(file)).raw)));
  return { certificate: Buffer.from(cert.raw), privateKey, applicationUri, trusted };
}

async function certificateFiles(path: string): Promise<string[]> {
  try {
    if (!(await stat(path)).isDirectory()) return [path];
    return (await readdir(path)).filter((name) => /\.(pem|crt|der|cer)$/i.test(name)).sort().map((name) => join(path, name));
  } catch (err) {
    throw new LookoutError('OPCUA_UNTRUSTED', `${path}: cannot read the trusted server certificates`, { cause: err });
  }
}

async function readCertificate(file: string): Promise<X509Certificate> {
  try {
    return new X509Certificate(await readFile(file));
  } catch (err) {
    throw new LookoutError('OPCUA_UNTRUSTED', `${file}: not a readable X.509 certificate (PEM or DER)`, { cause: err });
  }
}
