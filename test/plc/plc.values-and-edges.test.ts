import { describe, expect, it } from 'vitest';
import { verdictValues } from '../../src/plc/opcua/verdict-values.js';
import { TriggerEdge } from '../../src/plc/trigger-edge.js';
import { LINE1, verdict } from './opcua-kit.js';

describe('PLC: verdict values follow the node types', () => {
  it('writes the outcome as a code on numeric nodes and as a Boolean reject bit, a numeric part id as a number', () => {
    const v = verdict('reject', { partId: '1234' });
    const values = verdictValues(v, LINE1, (f) => ({ outcome: 'Int16', score: 'Float', partId: 'UInt32', timestamp: 'Double', camera: 'String' } as const)[f]);
    expect(values.map((x) => [x.field, x.value])).toEqual([['outcome', 2], ['score', 0.9], ['partId', 1234], ['timestamp', v.decidedAt], ['camera', 'cam1']]);
    expect(verdictValues(v, LINE1, (f) => (f === 'outcome' ? 'Boolean' : undefined)).map((x) => x.value)).toEqual([true]);
  });

  it('leaves out a node whose type cannot hold the field, and writes -1 for a verdict without a score', () => {
    const v = verdict('hold', { partId: 'A-1', anomalyScore: undefined });
    const values = verdictValues(v, LINE1, (f) => ({ outcome: 'DateTime', score: 'Double', partId: 'Int32', timestamp: 'Boolean', camera: 'String' } as const)[f]);
    expect(values.map((x) => [x.field, x.value])).toEqual([['score', -1], ['partId', 0], ['camera', 'cam1']]);
  });
});

describe('PLC: trigger edges', () => {
  it('fires on false -> true only, never on the first value after a reconnection', () => {
    const edge = new TriggerEdge('rising-edge');
    expect([true, false, true, true, false, true].map((x) => edge.accept(x))).toEqual([false, false, true, false, false, true]);
    edge.forget();
    expect([true, false, true].map((x) => edge.accept(x))).toEqual([false, false, true]);
  });

  it('fires on each change of a counter, not on its first value or a non-number', () => {
    const edge = new TriggerEdge('counter');
    expect([7, 7, 8, 9, 'x', 10].map((x) => edge.accept(x))).toEqual([false, false, true, true, false, true]);
  });
});
