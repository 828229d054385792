import { randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { LookoutError } from '../src/core/errors.js';
import type { AwsApis, ComponentVersionStatus, Progress } from './api.js';
import type { BuiltComponent } from './built-recipes.js';
import { changeReporter, pollUntil } from './poll.js';

export interface PublishOptions {
  timeoutMs: number;
  pollIntervalMs: number;
}

export interface PublishedComponent {
  name: string;
  version: string;
  arn: string;
  state: string;
}

/**
 * Uploads the component's artifacts, creates the component version from its recipe and waits until
 * Greengrass has checked the artifacts (DEPLOYABLE). FAILED is an error carrying Greengrass's reasons.
 */
export async function publishComponent(apis: Pick<AwsApis, 'greengrass' | 's3'>, component: BuiltComponent, options: PublishOptions, progress: Progress): Promise<PublishedComponent> {
  for (const artifact of component.artifacts) {
    const size = (await stat(artifact.file)).size;
    progress(`${component.name} ${component.version}: uploading ${artifact.file} (${(size / 1e6).toFixed(1)} MB) to s3://${artifact.bucket}/${artifact.key}`);
    await apis.s3.put(artifact.bucket, artifact.key, artifact.file);
  }
  progress(`${component.name} ${component.version}: creating the component version`);
  const created = await apis.greengrass.createComponentVersion(component.recipeYaml, randomUUID());
  const report = changeReporter(progress);
  let first = true;
  const final = await pollUntil<ComponentVersionStatus>(
    async () => {
      const status = first ? created : await apis.greengrass.describeComponent(created.arn);
      first = false;
      report(`${component.name} ${component.version}: ${status.state}${status.message ? ` (${status.message})` : ''}`);
      return status.state === 'DEPLOYABLE' || status.state === 'FAILED' ? { done: true, value: status } : { done: false };
    },
    { timeoutMs: options.timeoutMs, intervalMs: options.pollIntervalMs, what: `${component.name} ${component.version} becoming DEPLOYABLE` },
  );
  if (final.state === 'FAILED') {
    const errors = Object.entries(final.errors ?? {}).map(([k, v]) => `${k}: ${v}`);
    throw new LookoutError('DEPLOYMENT_FAILED', `${component.name} ${component.version} FAILED: ${[final.message, ...errors].filter(Boolean).join('; ') || 'no reason given'}`, {
      details: { arn: final.arn, errors: final.errors },
    });
  }
  return { name: component.name, version: component.version, arn: final.arn, state: final.state };
}
