import { describe, expect, it } from 'vitest';
import { planConfigUpdate, type ConfigUpdatePlan } from '../../src/config/live-update.js';
import { greengrassLayer, loadConfig, type ConfigLayer } from '../../src/config/load.js';

const cam = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ id, source: { type: 'folder', path: `/in/${id}` }, ...extra });

const baseRaw = {
  accessControl: { 'aws.greengrass.ipc.mqttproxy': { policy: {} } },
  status: { port: 8080 },
  cameras: [cam('cam1'), cam('cam2'), cam('cam3')],
};
const fileLayer: ConfigLayer = { source: 'file /etc/lookout.yaml', values: { status: { port: 9001 } } };

function accepted(plan: ConfigUpdatePlan): Extract<ConfigUpdatePlan, { ok: true }> {
  if (!plan.ok) throw new Error(`expected the update to be accepted: ${plan.problems.join('; ')}`);
  return plan;
}

describe('live configuration update plan', () => {
  const current = loadConfig([greengrassLayer(baseRaw)]);

  it('finds nothing to do for an identical configuration and keeps the same object', () => {
    const plan = accepted(planConfigUpdate(current, structuredClone(baseRaw)));
    expect(plan.changed).toEqual({ slices: [], cameras: { added: [], removed: [], changed: [] } });
    expect(plan.config).toBe(current);
    expect(plan.restartRequired).toBe(false);
  });

  it('names only the top-level slices that changed', () => {
    const plan = accepted(planConfigUpdate(current, { ...baseRaw, status: { port: 8081 }, decide: { failSafe: 'hold' } }));
    expect([...plan.changed.slices].sort()).toEqual(['decide', 'status']);
    expect(plan.config.status.port).toBe(8081);
    expect(plan.config.decide.failSafe).toBe('hold');
    expect(Object.isFrozen(plan.config.status)).toBe(true);
  });

  it('tells which cameras were added, removed and changed, by id, ignoring order', () => {
    const plan = accepted(
      planConfigUpdate(current, {
        ...baseRaw,
        cameras: [cam('cam4'), cam('cam3', { source: { type: 'folder', path: '/elsewhere' } }), cam('cam1')],
      }),
    );
    expect(plan.changed.slices).toEqual(['cameras']);
    expect(plan.changed.cameras).toEqual({ added: ['cam4'], removed: ['cam2'], changed: ['cam3'] });

    const reordered = accepted(planConfigUpdate(current, { ...baseRaw, cameras: [cam('cam3'), cam('cam2'), cam('cam1')] }));
    expect(reordered.changed.slices).toEqual([]);
  });

  it('rejects a bad update with every problem and leaves the current configuration alone', () => {
    const plan = planConfigUpdate(current, { ...baseRaw, status: { port: 70_000, colour: 'red' }, cameras: [cam('cam1'), cam('cam1')] });
    expect(plan.ok).toBe(false);
    if (plan.ok) return;
    expect(plan.problems).toContain('status.colour: unknown key');
    expect(plan.problems.some((p) => p.startsWith('status.port: '))).toBe(true);
    expect(plan.problems.some((p) => p.startsWith('cameras: camera ids must be unique'))).toBe(true);
    expect(current.status.port).toBe(8080);
  });

  it('refuses a configuration that is not an object rather than falling back to defaults', () => {
    for (const bad of [null, 'status: {}', 42, [baseRaw]]) {
      expect(planConfigUpdate(current, bad)).toEqual({ ok: false, problems: ['(root): the component configuration must be an object'] });
    }
  });

  it('layers the local file and flags above the new Greengrass values, as at start-up', () => {
    const withFile = loadConfig([greengrassLayer(baseRaw), fileLayer]);
    const shadowed = accepted(planConfigUpdate(withFile, { ...baseRaw, status: { port: 8090 } }, { above: [fileLayer] }));
    expect(shadowed.changed.slices).toEqual([]);
    expect(shadowed.config.status.port).toBe(9001);
  });

  it('asks for a restart when a process-wide key changes', () => {
    const plan = accepted(planConfigUpdate(current, { ...baseRaw, thingName: 'line-8' }));
    expect(plan.changed.slices).toEqual(['thingName']);
    expect(plan.restartRequired).toBe(true);
  });
});
