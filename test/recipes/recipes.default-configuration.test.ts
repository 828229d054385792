import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { inspectorAccessControl } from '../../component/access-control.js';
import { COMPONENT_NAMES } from '../../component/paths.js';
import { mergeBuiltRecipes, parseRecipe, recipeToYaml, renderAppRecipe, renderModelRecipe, type Recipe } from '../../component/render-recipe.js';
import { greengrassLayer, loadConfig } from '../../src/config/load.js';
import { isLookoutError } from '../../src/core/errors.js';

const root = new URL('../../', import.meta.url).pathname;
const load = async (path: string): Promise<Recipe> => parseRecipe(await readFile(`${root}${path}`, 'utf8'), path);
const defaults = (recipe: Recipe) => (recipe.ComponentConfiguration as { DefaultConfiguration: Record<string, unknown> }).DefaultConfiguration;

const APPS = [
  { file: 'recipe.yaml', name: 'com.lookoutedge.Inspector', command: 'run' },
  { file: 'recipes/com.lookoutedge.ModelServer.yaml', name: 'com.lookoutedge.ModelServer', command: 'serve-model' },
];

describe.each(APPS)('$name recipe', ({ file, name, command }) => {
  it('is recipe format 2020-01-25 with the component name of its file', async () => {
    const recipe = await load(file);
    expect(recipe.RecipeFormatVersion).toBe('2020-01-25');
    expect(recipe.ComponentName).toBe(name);
  });

  it('has a DefaultConfiguration that our schema accepts once accessControl is removed', async () => {
    const config = loadConfig([greengrassLayer(defaults(await load(file)))]);
    // No socket in the configuration: Setenv LOOKOUT_EDGE_SOCKET (below) names it.
    expect(config.inference.endpoint).toBeUndefined();
    expect(config.modelServer.socket).toBeUndefined();
  });

  it('puts the Edge Agent socket in the model server\'s work folder (0700, its user\'s), never AWS\'s /tmp path', async () => {
    const recipe = await load(file);
    // The inspector reaches it through the documented cross-component variable of its direct dependency.
    const expected = name === 'com.lookoutedge.ModelServer' ? '{work:path}/edge-agent.sock' : '{com.lookoutedge.ModelServer:work:path}/edge-agent.sock';
    for (const manifest of recipe.Manifests) {
      expect((manifest.Lifecycle as { Run: { Setenv: Record<string, string> } }).Run.Setenv.LOOKOUT_EDGE_SOCKET).toBe(expected);
    }
    if (name !== 'com.lookoutedge.ModelServer') expect(Object.keys(recipe.ComponentDependencies ?? {})).toContain('com.lookoutedge.ModelServer');
    expect(JSON.stringify(defaults(recipe))).not.toContain('/tmp/');
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
      // The nucleus unarchives <x>.zip into {artifacts:decompressedPath}/<x>/: the app is there, not a level below.
      expect(lifecycle.Install.Script).toBe('sh "{artifacts:decompressedPath}/{APP_ARCHIVE}/lifecycle/install.sh" "{artifacts:decompressedPath}/{APP_ARCHIVE}" "{work:path}"');
      expect(lifecycle.Install.Timeout).toBeGreaterThanOrEqual(300);
      // exec: the nucleus's SIGTERM reaches the shipped node itself, not a shell that ignores it.
      const app = '"{artifacts:decompressedPath}/{APP_ARCHIVE}';
      expect(lifecycle.Run.Script).toContain(`\nexec ${app}/runtime/bin/node" ${app}/bin/lookout-edge.js" ${command} "$@"`);
      expect(lifecycle.Run.Setenv.LOOKOUT_EDGE_CONFIG).toBe('{work:path}/lookout-edge.local.yaml');
      expect(manifest.Artifacts).toEqual([{ URI: 's3://BUCKET_NAME/COMPONENT_NAME/COMPONENT_VERSION/{APP_ARCHIVE}.zip', Unarchive: 'ZIP' }]);
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
    // A top-level file of artifacts/<name>/<version>/ (gdk publish uploads only those); executable runtime inside.
    expect(reparsed.Manifests[0]?.Artifacts).toEqual([
      { URI: `s3://my-bucket/${name}/1.2.3/lookout-edge-linux-x64.zip`, Unarchive: 'ZIP', Permission: { Read: 'OWNER', Execute: 'OWNER' } },
    ]);
    expect(JSON.stringify(reparsed.Manifests[0]?.Lifecycle)).toContain('{artifacts:decompressedPath}/lookout-edge-linux-x64/runtime/bin/node');
    expect(JSON.stringify(reparsed.Manifests[0]?.Lifecycle)).not.toContain('APP_ARCHIVE');
  });

  it('a build for arm64 into the folder that holds the x64 build of the same version keeps both architectures', async () => {
    const source = await load(file);
    const x64 = renderAppRecipe(source, { version: '1.2.3', arches: ['x64'] });
    const arm64 = renderAppRecipe(source, { version: '1.2.3', arches: ['arm64'] });
    const merged = mergeBuiltRecipes(x64, arm64, () => true);
    expect(merged.Manifests.map((m) => m.Platform?.architecture)).toEqual(['amd64', 'aarch64']);
    expect(merged.Manifests.map((m) => m.Artifacts?.[0]?.URI.split('/').pop())).toEqual(['lookout-edge-linux-x64.zip', 'lookout-edge-linux-arm64.zip']);
    // The x64 archive is gone: its manifest is not kept.
    expect(mergeBuiltRecipes(x64, arm64, () => false).Manifests.map((m) => m.Platform?.architecture)).toEqual(['aarch64']);
    // Another version: nothing to merge.
    expect(mergeBuiltRecipes(renderAppRecipe(source, { version: '1.2.2', arches: ['x64'] }), arm64, () => true).Manifests).toHaveLength(1);
    // The same version with another recipe: refused, never a silently lost architecture.
    const changed = { ...arm64, ComponentDescription: 'changed' };
    expect(() => mergeBuiltRecipes(x64, changed, () => true)).toThrow(/differs from this build's/);
  });
});

describe('inspector access control', () => {
  it('allows exactly the configured topics under the configured prefix, any thing (no recipe variable to interpolate)', async () => {
    const config = defaults(await load('recipe.yaml'));
    const prefix = (config.publish as { topicPrefix: string }).topicPrefix;
    expect(config.accessControl).toEqual(inspectorAccessControl(prefix));
    const mqtt = (config.accessControl as ReturnType<typeof inspectorAccessControl>)['aws.greengrass.ipc.mqttproxy'];
    const publish = Object.values(mqtt ?? {}).find((p) => p.operations.includes('aws.greengrass#PublishToIoTCore'));
    const subscribe = Object.values(mqtt ?? {}).find((p) => p.operations.includes('aws.greengrass#SubscribeToIoTCore'));
    expect(publish?.resources.sort()).toEqual(
      ['+/verdict', '+/reject', '+/mask', 'state', 'health', 'command/response'].map((t) => `lookout/+/${t}`).sort(),
    );
    expect(subscribe?.resources.sort()).toEqual(['lookout/+/+/trigger', 'lookout/+/command/request']);
    expect(JSON.stringify(config)).not.toContain('{iot:');
  });

  it('uses no MQTT wildcards in local pub/sub and no `#` anywhere', async () => {
    const config = defaults(await load('recipe.yaml'));
    const policies = config.accessControl as ReturnType<typeof inspectorAccessControl>;
    const pubsub = Object.values(policies['aws.greengrass.ipc.pubsub'] ?? {});
    expect(pubsub.flatMap((p) => p.operations).sort()).toEqual(['aws.greengrass#PublishToTopic', 'aws.greengrass#SubscribeToTopic']);
    for (const policy of pubsub) {
      for (const resource of policy.resources) expect(resource).not.toMatch(/[+#]/);
    }
    expect(pubsub.find((p) => p.operations.includes('aws.greengrass#SubscribeToTopic'))?.resources).toEqual(['lookout/*/trigger']);
    // The retained state goes to local pub/sub too.
    expect(pubsub.find((p) => p.operations.includes('aws.greengrass#PublishToTopic'))?.resources).toEqual(['lookout/*/reject', 'lookout/*/state']);
    expect(JSON.stringify(policies)).not.toContain('#"');
    expect(JSON.stringify(policies)).not.toMatch(/\/#/);
  });

  it('follows a changed prefix', () => {
    const policies = inspectorAccessControl('factory-7/line-2');
    const all = Object.values(policies).flatMap((service) => Object.values(service).flatMap((p) => p.resources));
    expect(all.every((r) => r.startsWith('factory-7/line-2/+/') || r.startsWith('factory-7/line-2/*/'))).toBe(true);
  });

  it('the model server needs no IPC authorization at all', async () => {
    expect(defaults(await load('recipes/com.lookoutedge.ModelServer.yaml'))).not.toHaveProperty('accessControl');
  });
});

describe('component names', () => {
  it('fit the nucleus\'s recipe-variable pattern, so other components can use {<name>:work:path} (no hyphen)', () => {
    // KernelConfigResolver: CROSS_COMPONENT_INTERPOLATION_REGEX = \{([.\w]+):([.\w]+):([^:}]+)}; a name with
    // a hyphen is never matched and the variable stays literal in the dependent's script.
    for (const name of COMPONENT_NAMES) expect(name).toMatch(/^[.\w]+$/);
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
    expect(reparsed.ComponentDependencies).toEqual({ 'com.lookoutedge.ModelServer': { VersionRequirement: '>=0.1.0', DependencyType: 'SOFT' } });
    expect(reparsed.Manifests[0]?.Artifacts).toEqual([{ URI: 's3://models/widget-model/3.0.0/model.zip', Unarchive: 'ZIP', Permission: { Read: 'ALL' } }]);
    const install = JSON.stringify(reparsed.Manifests[0]?.Lifecycle);
    // Documented cross-component variables of its dependency, never a guessed path.
    expect(install).toContain('{com.lookoutedge.ModelServer:work:path}');
    expect(install).toContain('model verify');
    expect(install).toContain('model-registry/widget-model.json');
    expect(install).not.toContain('artifacts-unarchived');
  });
});
