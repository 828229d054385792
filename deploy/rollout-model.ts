import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { MODEL_ZIP, parseRecipe, renderModelRecipe } from '../component/render-recipe.js';
import { COMPONENTS } from '../component/paths.js';
import { zipTree } from '../component/zip-app.js';
import { LookoutError } from '../src/core/errors.js';
import type { AwsApis, Progress } from './api.js';
import { builtComponent } from './built-recipes.js';
import { type Json, parseMergeDocument } from './config-merge.js';
import { type DeploymentResult, type WaitOptions, currentDeployment, deployToTarget } from './deployment.js';
import type { RolloutOptions } from './deployment-plan.js';
import { publishComponent } from './publish.js';
import { parseTarget } from './target-arn.js';

export interface ModelRollout extends RolloutOptions {
  targetArn: string;
  /** A trained model directory: manifest.json and the files it names. */
  modelDir: string;
  modelComponent: string;
  modelVersion: string;
  description?: string;
  bucket: string;
  /** recipes/templates/model-component.yaml */
  templatePath: string;
  /** Where model.zip and the rendered recipe are written (the gdk layout). */
  buildDir: string;
  inspector?: string;
  modelServer?: string;
  /** Older model components kept deployed (not started on boot) after the switch, for a fast way back. */
  keepPrevious: number;
  deploymentName?: string;
}

/**
 * One `modelServer.models` entry. The model server finds a model through the registry its model component's
 * Install step writes (`<model server work>/model-registry/<component>.json`), so new entries carry no
 * `path`; an entry carried over from an earlier deployment that still has one is kept as it is.
 */
interface ModelEntry {
  component: string;
  path?: string;
  startOnBoot: boolean;
}

/**
 * Publishes the model as a new model component version, then ONE deployment that
 *  1. adds the model component: the nucleus downloads and unarchives it, and its Install step verifies the model
 *     and registers its folder for the model server (a model that fails verification fails the deployment),
 *  2. merges into the model server `modelServer.models = [new (startOnBoot), previous… (kept, not started on boot)]`,
 *     so the new model is loaded and started while the old one keeps serving; the new entry names only the
 *     component, which the model server resolves through that registry,
 *  3. merges into the inspector `inference.modelComponent = <new>`: the inspector waits until the new model is
 *     RUNNING, moves traffic (frames in flight finish on the old model), then stops the old model;
 *     a new model that never reaches RUNNING leaves the old one serving.
 * Model components older than `keepPrevious` are dropped from the deployment (and from the model server's list).
 */
export async function rolloutModel(apis: Pick<AwsApis, 'greengrass' | 'iot' | 's3'>, spec: ModelRollout, wait: WaitOptions, progress: Progress): Promise<DeploymentResult & { modelArn: string }> {
  const inspector = spec.inspector ?? COMPONENTS.Inspector;
  const modelServer = spec.modelServer ?? COMPONENTS.ModelServer;
  parseTarget(spec.targetArn);
  if (!(await stat(join(spec.modelDir, 'manifest.json')).catch(() => undefined))?.isFile()) {
    throw new LookoutError('MODEL_MANIFEST_INVALID', `${spec.modelDir} has no manifest.json: not a model directory`);
  }

  // Check the target first: nothing is published for a fleet that cannot take it.
  const current = await currentDeployment(apis, spec.targetArn);
  for (const needed of [inspector, modelServer]) {
    if (!current?.components[needed]) {
      throw new LookoutError('USAGE', `the current deployment of ${spec.targetArn} has no ${needed}: deploy it first (lookout-edge deploy deploy --component ${needed}=<version>)`);
    }
  }

  const zipFile = join(spec.buildDir, 'artifacts', spec.modelComponent, spec.modelVersion, MODEL_ZIP);
  const zipped = await zipTree([{ from: spec.modelDir, into: '' }], zipFile);
  progress(`${spec.modelComponent} ${spec.modelVersion}: model.zip ${zipped.files} files, ${(zipped.bytes / 1e6).toFixed(1)} MB`);
  const template = parseRecipe(await readFile(spec.templatePath, 'utf8'), spec.templatePath);
  const recipe = renderModelRecipe(template, {
    name: spec.modelComponent,
    version: spec.modelVersion,
    description: spec.description ?? `lookout-edge model ${spec.modelComponent} ${spec.modelVersion}`,
    bucket: spec.bucket,
  });
  const published = await publishComponent(apis, await builtComponent(recipe, join(spec.buildDir, 'artifacts')), { timeoutMs: wait.timeoutMs, pollIntervalMs: wait.pollIntervalMs }, progress);

  const serverMerge = parseMergeDocument(current?.components[modelServer]?.configurationUpdate?.merge, modelServer);
  const previous = modelEntries(serverMerge).filter((m) => m.component !== spec.modelComponent);
  const kept = previous.slice(0, spec.keepPrevious).map((m) => ({ ...m, startOnBoot: false }));
  const dropped = previous.slice(spec.keepPrevious).map((m) => m.component);
  const models: ModelEntry[] = [{ component: spec.modelComponent, startOnBoot: true }, ...kept];
  if (dropped.length > 0) progress(`dropping older model components: ${dropped.join(', ')}`);

  const result = await deployToTarget(
    apis,
    {
      targetArn: spec.targetArn,
      ...(spec.deploymentName ? { deploymentName: spec.deploymentName } : {}),
      components: {
        [spec.modelComponent]: { version: spec.modelVersion },
        [modelServer]: { merge: { modelServer: { models } } },
        [inspector]: { merge: { inference: { modelComponent: spec.modelComponent } } },
      },
      remove: dropped.filter((name) => current?.components[name] !== undefined && name !== spec.modelComponent),
      ...(spec.rollout ? { rollout: spec.rollout } : {}),
      ...(spec.abort ? { abort: spec.abort } : {}),
      ...(spec.inProgressTimeoutMinutes ? { inProgressTimeoutMinutes: spec.inProgressTimeoutMinutes } : {}),
      ...(spec.componentUpdateTimeoutSeconds ? { componentUpdateTimeoutSeconds: spec.componentUpdateTimeoutSeconds } : {}),
    },
    wait,
    progress,
  );
  return { ...result, modelArn: published.arn };
}

function modelEntries(merge: Json): ModelEntry[] {
  const server = merge.modelServer as { models?: unknown } | undefined;
  if (!Array.isArray(server?.models)) return [];
  return server.models.filter((m): m is ModelEntry => typeof m === 'object' && m !== null && typeof (m as ModelEntry).component === 'string');
}
