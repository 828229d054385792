import { describe, expect, it } from 'vitest';
import { CommandProcessor } from '../../src/commands/command-processor.js';
import { statusSchema } from '../../src/config/slices/status.js';
import { createLogger } from '../../src/core/log.js';
import { FakeInspector } from '../helpers/fake-inspector.js';

function processor(commands: Record<string, unknown>, inspector = new FakeInspector(['cam1'])): CommandProcessor {
  const config = statusSchema.parse({ commands }).commands;
  return new CommandProcessor({ config, control: inspector, log: createLogger('silent') });
}

describe('command processor bounds', () => {
  it('answers QUEUE_FULL past maxInFlight instead of queueing without bound, then admits again', async () => {
    const inspector = new FakeInspector(['cam1']);
    inspector.inspectDelayMs = 200;
    const p = processor({ maxInFlight: 1 }, inspector);
    const first = p.handle(JSON.stringify({ transaction: 'a', command: 'snapshot', camera: 'cam1' }));
    const second = await p.handle(JSON.stringify({ transaction: 'b', command: 'snapshot', camera: 'cam1' }));
    expect(second).toMatchObject({ transaction: 'b', ok: false, error: { code: 'QUEUE_FULL' } });
    expect(await first).toMatchObject({ transaction: 'a', ok: true });
    inspector.inspectDelayMs = 0;
    expect(await p.handle(JSON.stringify({ transaction: 'c', command: 'snapshot', camera: 'cam1' }))).toMatchObject({ ok: true });
  });

  it('refuses a request over maxRequestBytes before parsing it', async () => {
    const p = processor({ maxRequestBytes: 256 });
    const response = await p.handle(Buffer.from(JSON.stringify({ transaction: 'big', command: 'reload-model', pad: 'x'.repeat(300) })));
    expect(response).toEqual({
      transaction: null,
      ok: false,
      error: { code: 'PAYLOAD_INVALID', message: expect.stringMatching(/^command request of \d+ bytes is over the 256-byte limit$/) },
    });
  });

  it('echoes the transaction of a request that names no valid command, and never throws on odd JSON', async () => {
    const p = processor({});
    expect(await p.handle('{"transaction":"t9","command":42}')).toMatchObject({ transaction: 't9', ok: false, error: { code: 'COMMAND_INVALID' } });
    for (const odd of ['null', '[]', '"pause"', '17', '{}', '{"transaction":{"x":1}}']) {
      expect(await p.handle(odd)).toMatchObject({ transaction: null, ok: false, error: { code: 'COMMAND_INVALID' } });
    }
    expect(await p.handle('{"transaction":"t10","command":"set-threshold","threshold":null}')).toEqual({
      transaction: 't10',
      ok: true,
      result: { camera: '*', threshold: null },
    });
  });
});
