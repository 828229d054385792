import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AwsApis } from '../../deploy/api.js';
import { type ModelRollout, rolloutModel } from '../../deploy/rollout-model.js';
import type { AwsEndpoint } from '../peers/aws-endpoint.js';
import { listZip } from '../component/unzip.js';
import { GROUP, recipeOf, root, startAws, WAIT } from './helpers.js';

let aws: AwsEndpoint;
let apis: AwsApis;
let spec: ModelRollout;
beforeEach(async () => {
  ({ aws, apis } = await startAws());
  const dir = await mkdtemp(join(tmpdir(), 'le-rollout-'));
  const modelDir = join(dir, 'widgets-v3');
  await mkdir(join(modelDir, 'weights'), { recursive: true });
  await writeFile(join(modelDir, 'manifest.json'), JSON.stringify({ format: 'lookout-edge-builtin', version: 1 }));
  await writeFile(join(modelDir, 'weights', 'model.bin'), Buffer.alloc(1024, 7));
  spec = {
    targetArn: GROUP,
    modelDir,
    modelComponent: 'widgets-model',
    modelVersion: '3.0.0',
    bucket: 'models-bucket',
    templatePath: join(root, 'recipes', 'templates', 'model-component.yaml'),
    buildDir: join(dir, 'build'),
    keepPrevious: 1,
  };
});
afterEach(async () => aws.stop());

/** A `modelServer.models` entry as rollout-model writes it: the component only, resolved through the model registry. */
const entry = (component: string, startOnBoot = true) => ({ component, startOnBoot });
/** An entry an older rollout-model left behind, with the guessed path it used to write. */
const legacyEntry = (component: string, version: string, startOnBoot = true) => ({
  component,
  path: `/greengrass/v2/packages/artifacts-unarchived/${component}/${version}/model`,
  startOnBoot,
});

function seed(models: { component: string; path?: string; startOnBoot: boolean }[], extra: Record<string, unknown> = {}) {
  return aws.seedDeployment(GROUP, {
    'com.lookoutedge.Inspector': { componentVersion: '1.4.0', configurationUpdate: { merge: JSON.stringify({ inference: { modelComponent: models[0]?.component }, status: { port: 8080 } }) } },
    'com.lookoutedge.ModelServer': { componentVersion: '1.4.0', configurationUpdate: { merge: JSON.stringify({ modelServer: { models, concurrency: 2 } }) } },
    ...extra,
  });
}

describe('deploy rollout-model', () => {
  it('a rollout the devices roll back makes the previous deployment the latest again, so neither joiners nor the next deploy get the broken model', async () => {
    const previous = seed([entry('widgets-model')], { 'widgets-model': { componentVersion: '2.0.0' } });
    aws.addCoreDevice({ thingName: 'gw-1', groupArns: [GROUP] });
    aws.deviceProgress = () => ({ status: 'FAILED', reason: 'widgets-model: Install failed' });
    const progress: string[] = [];
    await expect(rolloutModel(apis, spec, WAIT, (line) => progress.push(line))).rejects.toMatchObject({ code: 'DEPLOYMENT_FAILED' });
    const latest = aws.latestFor(GROUP)!;
    expect(latest.deploymentId).not.toBe(previous.deploymentId);
    expect(latest.components).toEqual(previous.components);
    expect(progress.join('\n')).toMatch(/restores the previous components/);
  });

  it('publishes the model component and switches the model server and the inspector to it in one deployment', async () => {
    seed([legacyEntry('widgets-model', '2.0.0'), legacyEntry('widgets-model-old', '1.0.0', false)], {
      'widgets-model': { componentVersion: '2.0.0' },
      'widgets-model-old': { componentVersion: '1.0.0' },
    });
    const result = await rolloutModel(apis, spec, { ...WAIT, wait: false }, () => undefined);

    // model.zip holds the directory at its root, so the nucleus unarchives it to <decompressedPath>/model/.
    const put = aws.calls('PutObject')[0]!;
    expect(put.path).toBe('/models-bucket/widgets-model/3.0.0/model.zip');
    const zipFile = join(spec.buildDir, 'artifacts', 'widgets-model', '3.0.0', 'model.zip');
    expect([...(await listZip(zipFile)).keys()].sort()).toEqual(['manifest.json', 'weights/model.bin']);
    const recipe = recipeOf(aws.calls('CreateComponentVersion')[0]!.json);
    expect(recipe).toMatchObject({ ComponentName: 'widgets-model', ComponentVersion: '3.0.0', ComponentDependencies: { 'com.lookoutedge.ModelServer': { DependencyType: 'SOFT' } } });
    expect(recipe.Manifests[0]?.Artifacts).toEqual([expect.objectContaining({ URI: 's3://models-bucket/widgets-model/3.0.0/model.zip', Unarchive: 'ZIP' })]);
    expect(result.modelArn).toBe('arn:aws:greengrass:eu-west-1:123456789012:components:widgets-model:versions:3.0.0');

    // Exactly one deployment, after the component version became DEPLOYABLE.
    const ops = aws.requests.map((r) => r.operation);
    expect(ops.filter((o) => o === 'CreateDeployment')).toHaveLength(1);
    expect(ops.lastIndexOf('DescribeComponent')).toBeLessThan(ops.indexOf('CreateDeployment'));
    const components = aws.calls('CreateDeployment')[0]!.json!.components as Record<string, { componentVersion: string; configurationUpdate?: { merge: string } }>;
    // The same component moves to 3.0.0 (one version per deployment); the other model stays deployed and
    // listed (not started on boot) as the way back; the server's other settings are carried forward. The new
    // entry has no path (the model server resolves it through the registry the model's Install step writes);
    // an entry an earlier rollout left with a path keeps it, so that model still loads.
    expect(Object.fromEntries(Object.entries(components).map(([k, v]) => [k, v.componentVersion]))).toEqual({
      'com.lookoutedge.Inspector': '1.4.0',
      'com.lookoutedge.ModelServer': '1.4.0',
      'widgets-model': '3.0.0',
      'widgets-model-old': '1.0.0',
    });
    expect(JSON.parse(components['com.lookoutedge.ModelServer']!.configurationUpdate!.merge)).toEqual({
      modelServer: { concurrency: 2, models: [entry('widgets-model'), legacyEntry('widgets-model-old', '1.0.0', false)] },
    });
    expect(JSON.parse(components['com.lookoutedge.Inspector']!.configurationUpdate!.merge)).toEqual({ inference: { modelComponent: 'widgets-model' }, status: { port: 8080 } });
  });

  it('keeps the previous model component deployed but not started on boot, and drops older ones beyond --keep-previous', async () => {
    seed([entry('widgets-model-v2'), entry('widgets-model-v1', false)], {
      'widgets-model-v2': { componentVersion: '2.0.0' },
      'widgets-model-v1': { componentVersion: '1.0.0' },
    });
    await rolloutModel(apis, { ...spec, modelComponent: 'widgets-model-v3' }, { ...WAIT, wait: false }, () => undefined);
    const components = aws.calls('CreateDeployment')[0]!.json!.components as Record<string, { componentVersion: string; configurationUpdate?: { merge: string } }>;
    expect(Object.keys(components).sort()).toEqual(['com.lookoutedge.Inspector', 'com.lookoutedge.ModelServer', 'widgets-model-v2', 'widgets-model-v3']);
    expect(JSON.parse(components['com.lookoutedge.ModelServer']!.configurationUpdate!.merge).modelServer.models).toEqual([
      entry('widgets-model-v3'),
      entry('widgets-model-v2', false),
    ]);
    expect(JSON.parse(components['com.lookoutedge.Inspector']!.configurationUpdate!.merge).inference).toEqual({ modelComponent: 'widgets-model-v3' });
  });

  it('follows the deployment to the devices', async () => {
    seed([]);
    aws.addCoreDevice({ thingName: 'jetson-1', groupArns: [GROUP] });
    aws.deviceProgress = (_id, _thing, call) => ({ status: call < 3 ? 'IN_PROGRESS' : 'SUCCEEDED' });
    const result = await rolloutModel(apis, spec, WAIT, () => undefined);
    expect(result.devices).toEqual([{ thingName: 'jetson-1', status: 'SUCCEEDED' }]);
  });

  it('refuses a fleet without the inspector or model server before uploading anything', async () => {
    aws.seedDeployment(GROUP, { 'com.lookoutedge.ModelServer': { componentVersion: '1.4.0' } });
    await expect(rolloutModel(apis, spec, WAIT, () => undefined)).rejects.toMatchObject({ code: 'USAGE', message: expect.stringMatching(/has no com\.lookoutedge\.Inspector: deploy it first/) });
    expect(aws.calls('PutObject')).toHaveLength(0);
    expect(aws.calls('CreateComponentVersion')).toHaveLength(0);
  });

  it('refuses a directory that is not a model', async () => {
    await expect(rolloutModel(apis, { ...spec, modelDir: spec.buildDir }, WAIT, () => undefined)).rejects.toMatchObject({ code: 'MODEL_MANIFEST_INVALID' });
    expect(aws.requests).toHaveLength(0);
  });
});
