import { describe, expect, it } from 'vitest';
import { resolveConfigLayers } from '../../src/cli/config-options.js';
import { loadConfig } from '../../src/config/load.js';

/**
 * Unset, the Edge Agent socket is private to our user on both sides: LOOKOUT_EDGE_SOCKET (the Greengrass
 * recipes), else $XDG_RUNTIME_DIR/lookout-edge/edge-agent.sock, else /tmp/lookout-edge-<uid>/edge-agent.sock;
 * never AWS's /tmp/aws.iot.lookoutvision.EdgeAgent.sock, which anybody can bind first.
 */

const uid = process.getuid?.() ?? 0;
const sockets = async (env: NodeJS.ProcessEnv, set: string[] = []) => {
  const { config } = await resolveConfigLayers({ set }, env);
  return [config.modelServer.socket, config.inference.endpoint];
};

describe('the default Edge Agent socket', () => {
  it('is /tmp/lookout-edge-<uid>/edge-agent.sock without XDG_RUNTIME_DIR, for the model server and the inspector alike', async () => {
    expect(await sockets({})).toEqual([`/tmp/lookout-edge-${uid}/edge-agent.sock`, `unix:///tmp/lookout-edge-${uid}/edge-agent.sock`]);
  });

  it('is under $XDG_RUNTIME_DIR when that is an absolute path (a relative one is ignored, as the XDG spec says)', async () => {
    expect(await sockets({ XDG_RUNTIME_DIR: '/run/user/1000' })).toEqual(['/run/user/1000/lookout-edge/edge-agent.sock', 'unix:///run/user/1000/lookout-edge/edge-agent.sock']);
    expect((await sockets({ XDG_RUNTIME_DIR: 'run/user/1000' }))[0]).toBe(`/tmp/lookout-edge-${uid}/edge-agent.sock`);
  });

  it('is LOOKOUT_EDGE_SOCKET when set (the recipes point both components at the model server\'s work folder)', async () => {
    const env = { LOOKOUT_EDGE_SOCKET: '/greengrass/v2/work/com.lookoutedge.ModelServer/edge-agent.sock', XDG_RUNTIME_DIR: '/run/user/1000' };
    expect(await sockets(env)).toEqual([env.LOOKOUT_EDGE_SOCKET, `unix://${env.LOOKOUT_EDGE_SOCKET}`]);
  });

  it('gives way to the configuration: AWS\'s path for Lookout for Vision clients stays one setting away', async () => {
    const aws = '/tmp/aws.iot.lookoutvision.EdgeAgent.sock';
    expect(await sockets({ XDG_RUNTIME_DIR: '/run/user/1000' }, [`modelServer.socket=${aws}`, `inference.endpoint=unix://${aws}`])).toEqual([aws, `unix://${aws}`]);
  });

  it('is left to the environment layer: the schema alone sets no socket', () => {
    const config = loadConfig([]);
    expect(config.modelServer.socket).toBeUndefined();
    expect(config.inference.endpoint).toBeUndefined();
  });
});
