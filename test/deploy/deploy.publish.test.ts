import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AwsApis } from '../../deploy/api.js';
import { readBuiltComponents } from '../../deploy/built-recipes.js';
import { publishComponent } from '../../deploy/publish.js';
import { type LookoutError } from '../../src/core/errors.js';
import type { AwsEndpoint } from '../peers/aws-endpoint.js';
import { collectProgress, fakeBuild, recipeOf, startAws } from './helpers.js';

let aws: AwsEndpoint;
let apis: AwsApis;
beforeEach(async () => ({ aws, apis } = await startAws()));
afterEach(async () => aws.stop());

const OPTIONS = { timeoutMs: 10_000, pollIntervalMs: 20 };

describe('deploy publish', () => {
  it('uploads each archive to its S3 key, creates the component version from the built recipe and waits for DEPLOYABLE', async () => {
    const { dir, zip } = await fakeBuild('1.4.0', 'artifacts-bucket');
    aws.componentStates = [{ state: 'INITIATED' }, { state: 'INITIATED' }, { state: 'DEPLOYABLE' }];
    const { lines, progress } = collectProgress();
    const [inspector] = await readBuiltComponents(dir, ['com.lookoutedge.Inspector']);
    const published = await publishComponent(apis, inspector!, OPTIONS, progress);

    expect(published).toEqual({
      name: 'com.lookoutedge.Inspector',
      version: '1.4.0',
      arn: 'arn:aws:greengrass:eu-west-1:123456789012:components:com.lookoutedge.Inspector:versions:1.4.0',
      state: 'DEPLOYABLE',
    });
    expect(aws.requests.map((r) => r.operation)).toEqual(['PutObject', 'CreateComponentVersion', 'DescribeComponent', 'DescribeComponent', 'DescribeComponent']);
    const [put, create, describe1] = aws.requests;
    expect(put).toMatchObject({ method: 'PUT', path: '/artifacts-bucket/com.lookoutedge.Inspector/1.4.0/lookout-edge-linux-x64.zip', signingService: 's3' });
    expect(put!.body.equals(zip)).toBe(true);
    expect(create).toMatchObject({ method: 'POST', path: '/greengrass/v2/createComponentVersion', signingService: 'greengrass' });
    expect(create!.json?.clientToken).toMatch(/^[0-9a-f-]{36}$/);
    const recipe = recipeOf(create!.json);
    expect(recipe).toMatchObject({ ComponentName: 'com.lookoutedge.Inspector', ComponentVersion: '1.4.0' });
    expect(recipe.Manifests[0]?.Artifacts?.[0]?.URI).toBe('s3://artifacts-bucket/com.lookoutedge.Inspector/1.4.0/lookout-edge-linux-x64.zip');
    expect(describe1!.path).toBe(`/greengrass/v2/components/${encodeURIComponent(published.arn)}/metadata`);
    // Progress: one line per change, not per poll.
    expect(lines.filter((l) => l.includes(': INITIATED'))).toHaveLength(1);
    expect(lines.at(-1)).toMatch(/DEPLOYABLE$/);
  });

  it('--bucket rewrites the artifact URIs of recipes built without one; without any bucket it refuses', async () => {
    const { dir } = await fakeBuild('1.4.0');
    await expect(readBuiltComponents(dir, [])).rejects.toMatchObject({ code: 'USAGE', message: expect.stringMatching(/bucket is not set; pass --bucket/) });
    const components = await readBuiltComponents(dir, [], 'other-bucket');
    expect(components.map((c) => c.name)).toEqual(['com.lookoutedge.Inspector', 'com.lookoutedge.ModelServer']);
    expect(components[1]!.artifacts).toEqual([{ bucket: 'other-bucket', key: 'com.lookoutedge.ModelServer/1.4.0/lookout-edge-linux-x64.zip', file: expect.stringMatching(/lookout-edge-linux-x64\.zip$/) }]);
    expect(components[1]!.recipeYaml).toContain('s3://other-bucket/com.lookoutedge.ModelServer/1.4.0/lookout-edge-linux-x64.zip');
  });

  it('fails clearly when Greengrass marks the version FAILED, with its reasons', async () => {
    const { dir } = await fakeBuild('1.4.0', 'b');
    aws.componentStates = [{ state: 'FAILED', message: 'Artifact check failed', errors: { 's3://b/x.zip': 'Access denied to S3 artifact' } }];
    const [component] = await readBuiltComponents(dir, ['com.lookoutedge.ModelServer']);
    await expect(publishComponent(apis, component!, OPTIONS, () => undefined)).rejects.toMatchObject({
      code: 'DEPLOYMENT_FAILED',
      message: 'com.lookoutedge.ModelServer 1.4.0 FAILED: Artifact check failed; s3://b/x.zip: Access denied to S3 artifact',
    });
  });

  it('retries throttling (429 ThrottlingException, S3 SlowDown) within the bound, then succeeds', async () => {
    const { dir } = await fakeBuild('1.4.0', 'b');
    aws.failNext('PutObject', { status: 503, name: 'SlowDown', message: 'Please reduce your request rate.' });
    aws.failNext('CreateComponentVersion', { status: 429, name: 'ThrottlingException', message: 'Rate exceeded' }, 2);
    const [component] = await readBuiltComponents(dir, ['com.lookoutedge.Inspector']);
    await publishComponent(apis, component!, OPTIONS, () => undefined);
    expect(aws.calls('PutObject')).toHaveLength(2);
    expect(aws.calls('CreateComponentVersion')).toHaveLength(3);
    // A retry is the same request: the same idempotency token.
    expect(new Set(aws.calls('CreateComponentVersion').map((r) => r.json?.clientToken)).size).toBe(1);
  });

  it('gives up after maxAttempts with a retryable AWS_REQUEST_FAILED naming the call', async () => {
    const { dir } = await fakeBuild('1.4.0', 'b');
    aws.failNext('CreateComponentVersion', { status: 429, name: 'ThrottlingException', message: 'Rate exceeded' }, 10);
    const [component] = await readBuiltComponents(dir, ['com.lookoutedge.Inspector']);
    const err = (await publishComponent(apis, component!, OPTIONS, () => undefined).catch((e: unknown) => e)) as LookoutError;
    expect(err).toMatchObject({ code: 'AWS_REQUEST_FAILED', retryable: true });
    expect(err.message).toBe('CreateComponentVersion failed after 3 attempts: ThrottlingException (HTTP 429): Rate exceeded');
    expect(aws.calls('CreateComponentVersion')).toHaveLength(3);
  });

  it('does not retry a conflict: the version already exists', async () => {
    const { dir } = await fakeBuild('1.4.0', 'b');
    const [component] = await readBuiltComponents(dir, ['com.lookoutedge.Inspector']);
    await publishComponent(apis, component!, OPTIONS, () => undefined);
    await expect(publishComponent(apis, component!, OPTIONS, () => undefined)).rejects.toMatchObject({
      code: 'AWS_REQUEST_FAILED',
      retryable: false,
      message: expect.stringMatching(/ConflictException \(HTTP 409\): Component com\.lookoutedge\.Inspector version 1\.4\.0 already exists/),
    });
    expect(aws.calls('CreateComponentVersion')).toHaveLength(2);
  });
});
