import { describe, expect, it } from 'vitest';
import { loadConfig, mergeLayers, parseSetFlags, greengrassLayer } from '../../src/config/load.js';
import { configJsonSchema } from '../../src/config/schema.js';
import { isLookoutError, type LookoutError } from '../../src/core/errors.js';

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(isLookoutError(err, 'CONFIG_INVALID')).toBe(true);
    return (err as LookoutError).details?.problems as string[];
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('configuration', () => {
  it('fills every default from an empty layer and freezes the result', () => {
    const config = loadConfig([]);
    expect(config.inference.modelComponent).toBe('lookout-edge-demo-model');
    expect(config.status.host).toBe('127.0.0.1');
    expect(config.decide.failSafe).toBe('reject');
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.status)).toBe(true);
    expect(() => {
      (config.status as { port: number }).port = 1;
    }).toThrow(TypeError);
  });

  it('reports all three mistakes at once, each as path: message', () => {
    const problems = problemsOf(() =>
      loadConfig([
        {
          source: 'file',
          values: {
            status: { port: 70000 },
            decide: { failSafe: 'explode' },
            cameras: [{ id: 'cam1', source: { type: 'folder', path: '/in' }, colour: 'blue' }],
          },
        },
      ]),
    );
    expect(problems).toHaveLength(3);
    expect(problems.some((p) => p.startsWith('status.port: '))).toBe(true);
    expect(problems.some((p) => p.startsWith('decide.failSafe: '))).toBe(true);
    expect(problems).toContain('cameras.0.colour: unknown key');
  });

  it('treats unknown keys as errors at every depth', () => {
    expect(problemsOf(() => loadConfig([{ source: 'x', values: { nope: 1, publish: { mqtt: { hots: 'a' } } } }])).sort()).toEqual([
      'nope: unknown key',
      'publish.mqtt.hots: unknown key',
    ]);
  });

  it('layers defaults < greengrass < file < flags, merging objects and replacing arrays', () => {
    const config = loadConfig([
      greengrassLayer({ accessControl: { 'aws.greengrass.ipc.mqttproxy': {} }, status: { port: 9000, host: '0.0.0.0', token: 'gg-token-123' } }),
      { source: 'file', values: { status: { port: 9001 }, decide: { minAreaByClass: { crack: 0.01 } } } },
      parseSetFlags(['status.port=9002', 'cameras.0.id=cam1', 'cameras.0.source.type=folder', 'cameras.0.source.path=/in']),
    ]);
    expect(config.status).toMatchObject({ port: 9002, host: '0.0.0.0', token: 'gg-token-123' });
    expect(config.decide.minAreaByClass).toEqual({ crack: 0.01 });
    expect(config.cameras[0]?.source).toMatchObject({ type: 'folder', path: '/in' });
  });

  it('refuses a world-writable model server socket and duplicate camera ids', () => {
    const problems = problemsOf(() =>
      loadConfig([
        {
          source: 'file',
          values: {
            modelServer: { socketMode: '0666' },
            cameras: [
              { id: 'a', source: { type: 'folder', path: '/x' } },
              { id: 'a', source: { type: 'folder', path: '/y' } },
            ],
          },
        },
      ]),
    );
    expect(problems.sort()).toEqual(['cameras: camera ids must be unique', 'modelServer.socketMode: must not be world-writable']);
  });

  it('refuses GPU execution providers this build cannot run, saying why, instead of falling back to the CPU', () => {
    const problems = problemsOf(() => loadConfig([{ source: 'file', values: { modelServer: { executionProviders: ['cuda', 'cpu', 'tensorrt'] } } }]));
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^modelServer\.executionProviders\.0: cuda is not available in this build: onnxruntime-node .* inference runs on the CPU/);
    expect(problems[1]).toMatch(/^modelServer\.executionProviders\.2: tensorrt is not available in this build/);
    expect(loadConfig([{ source: 'file', values: { modelServer: { executionProviders: ['cpu'] } } }]).modelServer.executionProviders).toEqual(['cpu']);
  });

  it('refuses an outbox recovery that would call the disk back on one write, at once, or probe in a busy loop', () => {
    const problems = problemsOf(() => loadConfig([{ source: 'file', values: { outbox: { recovery: { writes: 1, windowMs: 0, probeIntervalMs: 10, minFreeBytes: -1 } } } }]));
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual(['outbox.recovery.minFreeBytes', 'outbox.recovery.probeIntervalMs', 'outbox.recovery.windowMs', 'outbox.recovery.writes']);
    expect(loadConfig([]).outbox.recovery).toEqual({ writes: 5, windowMs: 10_000, probeIntervalMs: 1_000, minFreeBytes: 64 * 1024 * 1024 });
  });

  it('rejects bad --set flags and prototype keys', () => {
    expect(() => parseSetFlags(['novalue'])).toThrow(/key.path=value/);
    expect(() => parseSetFlags(['__proto__.x=1'])).toThrow(/bad key path/);
    expect(() => mergeLayers([{ source: 'file a.yaml', values: [1, 2] }])).toThrow(/file a.yaml: the configuration must be an object/);
  });

  it('prints a JSON Schema that forbids unknown keys', () => {
    const schema = configJsonSchema() as { properties: Record<string, unknown>; additionalProperties: unknown };
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['inference', 'cameras', 'decide', 'outbox', 'publish', 'status', 'modelServer']),
    );
    expect(schema.additionalProperties).toBe(false);
  });
});
