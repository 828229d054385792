import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { isLookoutError } from '../../src/core/errors.js';
import { createPlcClients } from '../../src/plc/create-plc.js';
import type { PlcClient } from '../../src/plc/ports.js';
import { opcuaCertificate, type CertPair } from '../helpers/opcua-certs.js';
import { waitFor } from '../helpers/wait-for.js';
import { type OpcuaPeer, startOpcuaPeer } from '../peers/opcua-peer.js';
import { opcuaConfig, tempDir, verdict } from './opcua-kit.js';

/**
 * SignAndEncrypt (Basic256Sha256) with certificates made by openssl: both sides trust only the certificates
 * they were given. A server we do not trust, a server that does not trust us, and a wrong password are each
 * a clear typed error, and nothing is written.
 */
describe('OPC UA: SignAndEncrypt and identities', () => {
  let peer: OpcuaPeer;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let mine: CertPair;
  let stranger: CertPair;
  let link: PlcClient | undefined;

  beforeAll(async () => {
    dir = await tempDir('le-opcua-s-');
    mine = await opcuaCertificate(dir.path, 'lookout');
    stranger = await opcuaCertificate(dir.path, 'stranger');
    peer = await startOpcuaPeer({ modes: ['SignAndEncrypt'], trust: [mine.certFile], user: { name: 'vision', password: 'pa55-word' } });
  });
  afterEach(async () => {
    await link?.stop('test');
    link = undefined;
  });
  afterAll(async () => {
    await peer?.close();
    await dir?.remove();
  });

  const logged: string[] = [];
  const log = createLogger('debug', new Writable({ write: (chunk: Buffer, _enc, done) => void (logged.push(chunk.toString()), done()) }));
  const start = async (values: Record<string, unknown>): Promise<PlcClient> => {
    const config = opcuaConfig({
      endpointUrl: peer.endpointUrl,
      securityMode: 'SignAndEncrypt',
      certificateFile: mine.certFile,
      privateKeyFile: mine.keyFile,
      trustedServerCertificates: peer.certificate.certFile,
      user: { name: 'vision', password: 'pa55-word' },
      ...values,
    });
    [link] = (await createPlcClients({ opcua: config }, { inspectNow: async () => undefined, log })) as [PlcClient];
    await link.start();
    return link;
  };

  it('writes verdicts over a signed and encrypted channel with a user name and password', async () => {
    const plc = await start({});
    await waitFor(() => plc.stats().state === 'up', 20_000, 'connected');
    const v = verdict('reject');
    plc.onVerdict(v);
    await waitFor(() => plc.stats().written === 1, 10_000, 'written');
    expect(peer.writes('Line1.PartId').at(-1)).toMatchObject({ value: v.partId, status: 'Good' });
  });

  it('refuses a server whose certificate is not in the trusted ones (OPCUA_UNTRUSTED) and writes nothing', async () => {
    const from = peer.writes().length;
    const plc = await start({ trustedServerCertificates: stranger.certFile });
    plc.onVerdict(verdict('reject'));
    await waitFor(() => plc.stats().lastError?.code === 'OPCUA_UNTRUSTED', 20_000, () => `a refusal (${JSON.stringify(plc.stats())})`);
    expect(plc.stats()).toMatchObject({ state: 'down', written: 0, lastError: { code: 'OPCUA_UNTRUSTED' } });
    expect(plc.stats().lastError?.message).toContain('not one of plc.opcua.trustedServerCertificates');
    expect(peer.writes().length).toBe(from);
  });

  it('says OPCUA_UNTRUSTED when the server does not trust our certificate', async () => {
    const plc = await start({ certificateFile: stranger.certFile, privateKeyFile: stranger.keyFile });
    await waitFor(() => plc.stats().lastError?.code === 'OPCUA_UNTRUSTED', 20_000, () => `a refusal (${JSON.stringify(plc.stats())})`);
    expect(plc.stats()).toMatchObject({ state: 'down' });
    expect(plc.stats().lastError?.message).toContain('refused our certificate');
  });

  it('says OPCUA_AUTH_FAILED for a wrong password, and logs no password', async () => {
    const plc = await start({ user: { name: 'vision', password: 'wrong' } });
    await waitFor(() => plc.stats().lastError?.code === 'OPCUA_AUTH_FAILED', 20_000, () => `a refusal (${JSON.stringify(plc.stats())})`);
    expect(plc.stats()).toMatchObject({ state: 'down' });
    expect(plc.stats().lastError?.message).not.toContain('wrong');
    await link?.stop('test');
    expect(logged.join('')).toContain('OPCUA_AUTH_FAILED');
    expect(logged.join('')).not.toMatch(/pa55-word|"wrong"/);
  });

  it('refuses at start a certificate without an application URI, or a key that is not its own', async () => {
    const config = opcuaConfig({ endpointUrl: peer.endpointUrl, certificateFile: mine.certFile, privateKeyFile: stranger.keyFile });
    const [wrongKey] = await createPlcClients({ opcua: config }, { inspectNow: async () => undefined, log: createLogger('silent') });
    const error: unknown = await wrongKey!.start().catch((err: unknown) => err);
    expect(isLookoutError(error, 'OPCUA_UNTRUSTED')).toBe(true);
    expect((error as Error).message).toContain('is not the key of');
  });
});
