import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { loadConfig } from '../../src/config/load.js';

describe('feedback commands and configuration', () => {
  it.each([['inspect'], ['report'], ['dataset', 'export'], ['model', 'promote']])('%s is wired into the program with its options', (...path: string[]) => {
    let cmd = buildProgram();
    for (const name of path) cmd = cmd.commands.find((c) => c.name() === name)!;
    expect(cmd).toBeDefined();
    const help = cmd.helpInformation();
    expect(help).toMatch(/^Usage: /);
    if (path[0] === 'inspect') expect(help).toMatch(/--model <dir>[\s\S]*--masks <dir>/);
    if (path[0] === 'report') expect(help).toMatch(/--since <date>[\s\S]*--format <format>/);
    if (path[0] === 'dataset') expect(help).toMatch(/--class-name <name>[\s\S]*--color/);
    if (path[0] === 'model') expect(help).toMatch(/<candidate>[\s\S]*--to <dir>/);
  });

  it('the evidence slice has defaults and refuses unknown keys with their path', () => {
    const config = loadConfig([]);
    expect(config.evidence).toMatchObject({ enabled: true, queueCapacity: 32, keep: { normalSampleEvery: 100 } });
    expect(() => loadConfig([{ source: 'test', values: { evidence: { keep: { everyNormal: 3 } } } }])).toThrow(/evidence\.keep\.everyNormal: unknown key/);
  });
});
