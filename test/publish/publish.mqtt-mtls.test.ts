import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.js';
import { MqttPublisher } from '../../src/publish/adapters/mqtt-publisher.js';
import { freePort, type MosquittoPeer, startMosquitto } from '../peers/mosquitto.js';
import { waitFor } from '../helpers/wait-for.js';
import { waitConnected } from '../../src/publish/publisher.js';

/**
 * The mTLS path (what IoT Core uses)
 * against mosquitto with a TLS listener that requires a client certificate, signed by a test CA made here.
 */
let dir: string;
let broker: MosquittoPeer;
let tlsPort: number;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'le-mtls-'));
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=lookout-test-ca', '-keyout', 'ca.key', '-out', 'ca.pem');
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=rogue', '-keyout', 'rogue.key', '-out', 'rogue.pem');
  await writeFile(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost\n');
  for (const [name, ext] of [['server', ['-extfile', 'server.ext']], ['client', []]] as const) {
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name === 'server' ? 'localhost' : 'line1-thing'}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-out', `${name}.pem`, ...ext);
  }
  // mosquitto drops root for its own user: let it read the directory and its key.
  execFileSync('chmod', ['0755', dir]);
  execFileSync('chmod', ['0644', join(dir, 'server.key')]);
  tlsPort = await freePort();
  broker = await startMosquitto({
    extraConfig: [`listener ${tlsPort} 127.0.0.1`, `cafile ${join(dir, 'ca.pem')}`, `certfile ${join(dir, 'server.pem')}`, `keyfile ${join(dir, 'server.key')}`, 'require_certificate true', 'use_identity_as_username true'],
  });
});
afterAll(async () => {
  await broker?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('MQTT 5 over mTLS', () => {
  it('connects with a client certificate and publishes with PUBACK', async () => {
    const sub = await mqtt.connectAsync(broker.url, { clientId: 'mtls-sub' });
    await sub.subscribeAsync('lookout/line1/#', { qos: 1 });
    const got: string[] = [];
    sub.on('message', (_t, p) => got.push(p.toString()));
    const publisher = new MqttPublisher({
      name: 'cloud-mqtt',
      broker: { host: 'localhost', port: tlsPort, keepAliveSec: 30, connectTimeoutMs: 5_000, tls: { certPath: join(dir, 'client.pem'), keyPath: join(dir, 'client.key'), caPath: join(dir, 'ca.pem') } },
      clientId: 'line1-thing',
      publishTimeoutMs: 5_000,
      log: createLogger('silent'),
    });
    await publisher.start();
    expect(await waitConnected(publisher, 10_000)).toBe(true);
    await publisher.publish('lookout/line1/cam1/verdict', Buffer.from('{"v":1}'), { qos: 1 });
    await waitFor(() => got.includes('{"v":1}'), 5_000, 'the message over mTLS');
    await publisher.stop();
    await sub.endAsync();
  });

  it('does not connect without a certificate the broker trusts', async () => {
    const publisher = new MqttPublisher({
      name: 'cloud-mqtt',
      broker: { host: 'localhost', port: tlsPort, keepAliveSec: 30, connectTimeoutMs: 2_000, tls: { certPath: join(dir, 'rogue.pem'), keyPath: join(dir, 'rogue.key'), caPath: join(dir, 'ca.pem') } },
      clientId: 'impostor',
      publishTimeoutMs: 1_000,
      log: createLogger('silent'),
    });
    await publisher.start();
    expect(await waitConnected(publisher, 1_500)).toBe(false);
    const err = await publisher.publish('lookout/line1/x', Buffer.from('x'), { qos: 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PUBLISH_FAILED' });
    await publisher.stop();
  });
});
