import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { inspectorAccessControl } from '../../component/access-control.js';
import { parseRecipe, recipeToYaml, renderAppRecipe, renderModelRecipe, type Recipe } from '../../component/render-recipe.js';
import { greengrassLayer, loadConfig } from '../../src/config/load.js';
import { isLookoutError } from '../../src/core/errors.js';

const root = new URL('../../', import.meta.url).pathname;
const load = async (path: string): Promise<Recipe> => parseRecipe(await readFile(`${root}${path}`, 'utf8'), path);
const defaults = (recipe: Recipe) => (recipe.ComponentConfiguration as { DefaultConfiguration: Record<string, unknown> }).DefaultConfiguration;

const APPS = [
  { file: 'recipes/com.lookout-edge.Inspector.yaml', name: 'com.lookout-edge.Inspector', command: 'run' },
  { file: 'recipes/com.lookout-edge.ModelServer.yaml', name: 'com.lookout-edge.ModelServer', command: 'serve-model' },
];

describe.each(APPS)('$name recipe', ({ file, name, command }) => {
  it('is recipe format 2020-01-25 with the component name of its file', async () => {
    const recipe = await load(file);
    expect(recipe.RecipeFormatVersion).toBe('2020-01-25');
    expect(recipe.ComponentName).toBe(name);
  });

  it('has a DefaultConfiguration that our schema accepts once accessControl is removed', async () => {
    const config = loadConfig([greengrassLayer(defaults(await load(file)))]);
    expect(config.inference.endpoint).toBe('unix:///tmp/aws.iot.lookoutvision.EdgeAgent.sock');
    expect(config.modelServer.socket).toBe('/tmp/aws.iot.lookoutvision.EdgeAgent.sock');
  });

  it('would be refused by the schema if a key were misspelt (the check can fail)', async () => {
    const broken = { ...defaults(await load(file)), publsh: { cloud: 'greengrass' } };
    expect(() => loadConfig([greengrassLayer(broken)])).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    try {
      loadConfig([greengrassLayer(broken)]);
    } catch (err) {
      expect(isLookoutError(err) && err.details?.problems).toContain('publsh: unknown key');
    }
  });

  it('has linux amd64 and aarch64 manifests that install, then exec node on the right command', async () => {
    const recipe = await load(file);
    expect(recipe.Manifests.map((m) => [m.Platform?.os, m.Platform?.architecture])).toEqual([
      ['linux', 'amd64'],
      ['linux', 'aarch64'],
    ]);
    for (const manifest of recipe.Manifests) {
      const lifecycle = manifest.Lifecycle as { Install: { Script: string; Timeout: number }; Run: { Script: string; Setenv: Record<string, string> } };
      expect(lifecycle.Install.Script).toContain('{artifacts:decompressedPath}/lookout-edge/lifecycle/install.sh');
      expect(lifecycle.Install.Timeout).toBeGreaterThanOrEqual(300);
      // exec: the nucleus's SIGINT/SIGTERM reach node itself, not a shell that ignores them.
      expect(lifecycle.Run.Script).toMatch(new RegExp(`^exec node "\\$APP/bin/lookout-edge.js" ${command} "\\$@"$`, 'm'));
      expect(lifecycle.Run.Setenv.LOOKOUT_EDGE_CONFIG).toBe('{work:path}/lookout-edge.local.yaml');
      expect(manifest.Artifacts?.[0]).toMatchObject({ Unarchive: 'ZIP' });
      expect(manifest.Artifacts?.[0]?.URI).toMatch(/lookout-edge\.zip$/);
    }
  });

  it('builds into a plain recipe: version filled, only the built architecture, artifact in the bucket', async () => {
    const built = renderAppRecipe(await load(file), { version: '1.2.3', arches: ['x64'], bucket: 'my-bucket' });
    const yaml = recipeToYaml(built);
    expect(yaml).toMatch(/^RecipeFormatVersion: "2020-01-25"$/m);
    expect(yaml).toMatch(/^ComponentVersion: "1\.2\.3"$/m);
    expect(yaml).not.toMatch(/COMPONENT_VERSION|BUCKET_NAME|COMPONENT_NAME|\*lifecycle|&lifecycle/);
    const reparsed = parse(yaml) as Recipe;
    expect(reparsed.Manifests).toHaveLength(1);
    expect(reparsed.Manifests[0]?.Platform?.architecture).toBe('amd64');
    expect(reparsed.Manifests[0]?.Artifacts).toEqual([{ URI: `s3://my-bucket/${name}/1.2.3/linux-x64/lookout-edge.zip`, Unarchive: 'ZIP' }]);
    expect(JSON.stringify(reparsed.Manifests[0]?.Lifecycle)).toContain('{work:path}/native/1.2.3/.ready');
  });
});

describe('inspector access control', () => {
  it('allows exactly the configured topics, under the configured prefix and {iot:thingName}', async () => {
    const config = defaults(await load('recipes/com.lookout-edge.Inspector.yaml'));
    const prefix = (config.publish as { topicPrefix: string }).topicPrefix;
    expect(config.accessControl).toEqual(inspectorAccessControl(prefix));
    const mqtt = (config.accessControl as ReturnType<typeof inspectorAccessControl>)['aws.greengrass.ipc.mqttproxy'];
    const publish = Object.values(mqtt ?? {}).find((p) => p.operations.includes('aws.greengrass#PublishToIoTCore'));
    const subscribe = Object.values(mqtt ?? {}).find((p) => p.operations.includes('aws.greengrass#SubscribeToIoTCore'));
    expect(publish?.resources.sort()).toEqual(
      ['+/verdict', '+/reject', '+/mask', 'state', 'health', 'command/response'].map((t) => `lookout/{iot:thingName}/${t}`).sort(),
    );
    expect(subscribe?.resources.sort()).toEqual(['lookout/{iot:thingName}/+/trigger', 'lookout/{iot:thingName}/command/request']);
  });

  it('uses no MQTT wildcards in local pub/sub and no `#` anywhere', async () => {
    const config = defaults(await load('recipes/com.lookout-edge.Inspector.yaml'));
    const policies = config.accessControl as ReturnType<typeof inspectorAccessControl>;
    const pubsub = Object.values(policies['aws.greengrass.ipc.pubsub'] ?? {});
    expect(pubsub.flatMap((p) => p.operations).sort()).toEqual(['aws.greengrass#PublishToTopic', 'aws.greengrass#SubscribeToTopic']);
    for (const policy of pubsub) {
      for (const resource of policy.resources) expect(resource).not.toMatch(/[+#]/);
    }
    expect(pubsub.find((p) => p.operations.includes('aws.greengrass#SubscribeToTopic'))?.resources).toEqual(['lookout/{iot:thingName}/*/trigger']);
    expect(JSON.stringify(policies)).not.toContain('#"');
    expect(JSON.stringify(policies)).not.toMatch(/\/#/);
  });

  it('follows a changed prefix', () => {
    const policies = inspectorAccessControl('factory-7/line-2');
    const all = Object.values(policies).flatMap((service) => Object.values(service).flatMap((p) => p.resources));
    expect(all.every((r) => r.startsWith('factory-7/line-2/{iot:thingName}/'))).toBe(true);
  });

  it('the model server needs no IPC authorization at all', async () => {
    expect(defaults(await load('recipes/com.lookout-edge.ModelServer.yaml'))).not.toHaveProperty('accessControl');
  });
});

describe('model component template', () => {
  it('renders a component that ships model.zip and depends on the model server', async () => {
    const template = await load('recipes/templates/model-component.yaml');
    const recipe = renderModelRecipe(template, { name: 'widget-model', version: '3.0.0', description: 'widgets v3', bucket: 'models' });
    const yaml = recipeToYaml(recipe);
    expect(yaml).not.toMatch(/\{[A-Z_]+\}|BUCKET_NAME/);
    const reparsed = parse(yaml) as Recipe;
    expect(reparsed).toMatchObject({ ComponentName: 'widget-model', ComponentVersion: '3.0.0', ComponentDescription: 'widgets v3' });
    expect(reparsed.ComponentDependencies).toEqual({ 'com.lookout-edge.ModelServer': { VersionRequirement: '>=0.1.0', DependencyType: 'SOFT' } });
    expect(reparsed.Manifests[0]?.Artifacts).toEqual([{ URI: 's3://models/widget-model/3.0.0/model.zip', Unarchive: 'ZIP' }]);
    expect(JSON.stringify(reparsed.Manifests[0]?.Lifecycle)).toContain('{artifacts:decompressedPath}/model/manifest.json');
  });
});
