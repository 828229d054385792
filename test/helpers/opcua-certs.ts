import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface CertPair {
  readonly certFile: string;
  readonly keyFile: string;
  readonly applicationUri: string;
}

/**
 * A self-signed RSA-2048 application instance certificate made by openssl, as OPC UA Part 6 §6.2.2
 * wants it: the application URI in subjectAltName (node-opcua compares it with the ApplicationDescription,
 * BadCertificateUriInvalid otherwise), localhost and 127.0.0.1 as host names, keyUsage with
 * keyEncipherment and dataEncipherment (Basic256Sha256 encrypts with the certificate's RSA key), and both
 * serverAuth and clientAuth.
 */
export async function opcuaCertificate(dir: string, name: string, applicationUri = `urn:lookout-edge-test:${name}`): Promise<CertPair> {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  const extFile = join(dir, `${name}.ext`);
  await writeFile(
    extFile,
    [
      '[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', `CN = ${name}`, 'O = lookout-edge tests', '[ext]',
      `subjectAltName = URI:${applicationUri},DNS:localhost,IP:127.0.0.1`,
      'keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment, dataEncipherment, keyCertSign',
      'extendedKeyUsage = serverAuth, clientAuth', 'basicConstraints = critical, CA:FALSE', 'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid',
    ].join('\n') + '\n',
  );
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '30', '-config', extFile, '-extensions', 'ext', '-keyout', keyFile, '-out', certFile]);
  return { certFile, keyFile, applicationUri };
}
