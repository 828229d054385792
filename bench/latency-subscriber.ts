/**
 * A separate subscriber process (as a PLC would be) for the reject-latency bench: prints `ready`,
 * then `<id> <arrival ms since epoch, sub-ms>` per message. argv: <broker url> <topic filter>.
 */
import mqtt from 'mqtt';

const [url, filter] = process.argv.slice(2);
const client = await mqtt.connectAsync(String(url), { clientId: `latency-sub-${process.pid}` });
client.on('message', (_topic, payload) => {
  const arrival = performance.timeOrigin + performance.now();
  const body = JSON.parse(payload.toString()) as { verdictId?: string; id?: string };
  process.stdout.write(`${body.verdictId ?? body.id} ${arrival}\n`);
});
await client.subscribeAsync(String(filter), { qos: 1 });
process.stdout.write('ready\n');
process.stdin.on('end', () => void client.endAsync().then(() => process.exit(0)));
process.stdin.resume();
