import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { AwsApis, ModelPackagingRequest, RolloutConfig } from '../../deploy/api.js';
import type { ComponentChange, RolloutOptions } from '../../deploy/deployment-plan.js';
import { LookoutError } from '../core/errors.js';
import { findInstalledFile } from '../system/installed-file.js';

/** `lookout-edge deploy …`: fleet operations against AWS IoT Greengrass v2 (and Lookout for Vision's packaging). */

interface AwsFlags {
  region?: string;
  endpointUrl?: string;
  maxAttempts: number;
  timeout: number;
  pollInterval: number;
  wait: boolean;
}

interface RolloutFlags {
  maxPerMinute: number;
  exponential?: string;
  abortFailurePercent: number;
  abortMinDevices: number;
  jobTimeoutMinutes?: number;
  componentUpdateTimeout: number;
}

const number = (min: number, max: number) => (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) throw new InvalidArgumentError(`a number from ${min} to ${max}`);
  return n;
};
const collect = (value: string, previous: string[]) => [...previous, value];

function withAwsOptions(cmd: Command, waits = true): Command {
  cmd
    .option('--region <region>', 'AWS region (default: the standard chain: AWS_REGION, ~/.aws/config)')
    .option('--endpoint-url <url>', 'send every AWS call to this endpoint (tests, gateways); S3 uses path-style addressing')
    .addOption(new Option('--max-attempts <n>', 'attempts per AWS call, retrying throttling, 5xx and network errors').default(5).argParser(number(1, 20)))
    .addOption(new Option('--timeout <seconds>', 'give up waiting after this long').default(1800).argParser(number(1, 86_400)))
    .addOption(new Option('--poll-interval <seconds>', 'time between status checks while waiting').default(5).argParser(number(0.01, 600)));
  if (waits) cmd.option('--no-wait', 'return once the request is accepted');
  return cmd;
}

function withRolloutOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--max-per-minute <n>', 'devices notified per minute at most').default(50).argParser(number(1, 1000)))
    .option('--exponential <base,factor,succeeded>', 'exponential rollout: base rate per minute, increment factor, increase after this many devices succeeded (e.g. 5,2,10)')
    .addOption(new Option('--abort-failure-percent <p>', 'cancel the rollout once this percentage of devices failed').default(10).argParser(number(0, 100)))
    .addOption(new Option('--abort-min-devices <n>', '…after at least this many devices ran it').default(1).argParser(number(1, 100_000)))
    .addOption(new Option('--job-timeout-minutes <m>', 'per-device timeout of the deployment job').argParser(number(1, 10_080)))
    .addOption(new Option('--component-update-timeout <s>', 'seconds components get to acknowledge an update and validate configuration').default(60).argParser(number(1, 3600)));
}

function rolloutFrom(flags: RolloutFlags): RolloutOptions {
  let rollout: RolloutConfig = { maximumPerMinute: flags.maxPerMinute };
  if (flags.exponential) {
    const [base, factor, succeeded] = flags.exponential.split(',').map(Number);
    if (!base || !factor || !succeeded || factor < 1.1) throw new LookoutError('USAGE', '--exponential expects base,factor,succeeded with factor >= 1.1, e.g. 5,2,10');
    rollout = { ...rollout, exponentialRate: { baseRatePerMinute: base, incrementFactor: factor, rateIncreaseCriteria: { numberOfSucceededThings: succeeded } } };
  }
  return {
    rollout,
    abort: { failureThresholdPercentage: flags.abortFailurePercent, minExecutedThings: flags.abortMinDevices },
    componentUpdateTimeoutSeconds: flags.componentUpdateTimeout,
    ...(flags.jobTimeoutMinutes ? { inProgressTimeoutMinutes: flags.jobTimeoutMinutes } : {}),
  };
}

async function apisFrom(flags: AwsFlags): Promise<AwsApis> {
  const { createAwsApis } = await import('../../deploy/adapters/aws-clients.js');
  return createAwsApis({
    ...(flags.region ? { region: flags.region } : {}),
    ...(flags.endpointUrl ? { endpointUrl: flags.endpointUrl } : {}),
    maxAttempts: flags.maxAttempts,
  });
}

const waitFrom = (flags: AwsFlags) => ({ wait: flags.wait !== false, timeoutMs: flags.timeout * 1000, pollIntervalMs: flags.pollInterval * 1000 });
const progress = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);

/** `name=value` (value may be `@file`). */
function splitAssignment(flag: string, text: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new LookoutError('USAGE', `${flag} expects NAME=VALUE, got "${text}"`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

async function componentChanges(flags: { component: string[]; merge: string[]; reset: string[] }): Promise<Record<string, ComponentChange>> {
  const { mergeFromText } = await import('../../deploy/config-merge.js');
  const { deepMerge } = await import('../../deploy/config-merge.js');
  const changes: Record<string, ComponentChange> = {};
  const get = (name: string) => (changes[name] ??= {});
  for (const text of flags.component) {
    const [name, version] = splitAssignment('--component', text);
    get(name).version = version;
  }
  for (const text of flags.merge) {
    const [name, raw] = splitAssignment('--merge', text);
    const json = raw.startsWith('@') ? await readFile(raw.slice(1), 'utf8').catch((err: Error) => {
      throw new LookoutError('USAGE', `--merge ${name}: cannot read ${raw.slice(1)}: ${err.message}`);
    }) : raw;
    const change = get(name);
    change.merge = deepMerge(change.merge ?? {}, mergeFromText(name, json));
  }
  for (const text of flags.reset) {
    const [name, path] = splitAssignment('--reset', text);
    const change = get(name);
    change.reset = [...(change.reset ?? []), path];
  }
  return changes;
}

/** recipes/templates/model-component.yaml, found upwards from this module (src/cli under tsx, dist/src/cli when built). */
function findTemplate(): string {
  return findInstalledFile('recipes/templates/model-component.yaml') ?? resolve('recipes', 'templates', 'model-component.yaml');
}

export function deployCommand(): Command {
  // Subcommands inherit these: usage errors end in runCli (exit 64), not in process.exit.
  const deploy = new Command('deploy')
    .description('publish components and deploy them to Greengrass fleets (AWS credentials from the standard chain)')
    .exitOverride()
    .showHelpAfterError();

  withAwsOptions(
    deploy
      .command('publish')
      .description('upload the built artifacts to S3, create the component versions and wait until they are DEPLOYABLE')
      .option('--build-dir <dir>', 'the gdk build folder written by `npm run build:component`', 'greengrass-build')
      .option('--component <name>', 'only this component (repeatable; default: every built recipe)', collect, [])
      .option('--bucket <bucket>', 'artifact bucket (overrides the one in the built recipes)'),
    false,
  ).action(async (flags: AwsFlags & { buildDir: string; component: string[]; bucket?: string }) => {
    const { readBuiltComponents } = await import('../../deploy/built-recipes.js');
    const { publishComponent } = await import('../../deploy/publish.js');
    const components = await readBuiltComponents(resolve(flags.buildDir), flags.component, flags.bucket);
    const apis = await apisFrom(flags);
    const published = [];
    for (const component of components) {
      published.push(await publishComponent(apis, component, { timeoutMs: flags.timeout * 1000, pollIntervalMs: flags.pollInterval * 1000 }, progress));
    }
    print({ published });
  });

  withRolloutOptions(
    withAwsOptions(
      deploy
        .command('deploy')
        .description('deploy to a thing group (or thing): keeps the components of its current deployment, merges configuration, rolls back on failure; waits on the deployment\'s IoT job until every thing in the target now has finished')
        .requiredOption('--target-arn <arn>', 'thing group (or thing) ARN')
        .option('--component <name=version>', 'add or update a component (repeatable)', collect, [])
        .option('--merge <name=json>', 'merge configuration into a component: NAME=\'{"a":1}\' or NAME=@file.json (repeatable)', collect, [])
        .option('--reset <name=pointer>', 'reset a JSON pointer of a component to its default first (repeatable)', collect, [])
        .option('--remove <name>', 'remove a component from the deployment (repeatable)', collect, [])
        .option('--deployment-name <name>', 'deployment name (default: the current one, or lookout-edge)'),
    ),
  ).action(async (flags: AwsFlags & RolloutFlags & { targetArn: string; component: string[]; merge: string[]; reset: string[]; remove: string[]; deploymentName?: string }) => {
    const { deployToTarget } = await import('../../deploy/deployment.js');
    const components = await componentChanges(flags);
    const result = await deployToTarget(
      await apisFrom(flags),
      { targetArn: flags.targetArn, components, remove: flags.remove, ...(flags.deploymentName ? { deploymentName: flags.deploymentName } : {}), ...rolloutFrom(flags) },
      waitFrom(flags),
      progress,
    );
    print(result);
  });

  withRolloutOptions(
    withAwsOptions(
      deploy
        .command('rollout-model')
        .description('publish a model directory as a new model component version and switch the model server and the inspector to it in one deployment')
        .requiredOption('--target-arn <arn>', 'thing group (or thing) ARN')
        .requiredOption('--model-dir <dir>', 'trained model directory (manifest.json and its files)')
        .requiredOption('--model-component <name>', 'model component name, e.g. widgets-model')
        .requiredOption('--model-version <version>', 'new component version (major.minor.patch)')
        .requiredOption('--bucket <bucket>', 'artifact bucket for model.zip')
        .option('--description <text>', 'component description')
        .addOption(new Option('--keep-previous <n>', 'older model components kept deployed (not started on boot) for a fast way back').default(1).argParser(number(0, 10)))
        .option('--inspector <name>', 'inspector component', 'com.lookoutedge.Inspector')
        .option('--model-server <name>', 'model server component', 'com.lookoutedge.ModelServer')
        .option('--build-dir <dir>', 'where model.zip is written', 'greengrass-build')
        .option('--deployment-name <name>', 'deployment name (default: the current one)'),
    ),
  ).action(
    async (
      flags: AwsFlags &
        RolloutFlags & {
          targetArn: string;
          modelDir: string;
          modelComponent: string;
          modelVersion: string;
          bucket: string;
          description?: string;
          keepPrevious: number;
          inspector: string;
          modelServer: string;
          buildDir: string;
          deploymentName?: string;
        },
    ) => {
      if (!/^\d+\.\d+\.\d+$/.test(flags.modelVersion)) throw new LookoutError('USAGE', `--model-version must be major.minor.patch, got ${flags.modelVersion}`);
      const { rolloutModel } = await import('../../deploy/rollout-model.js');
      const result = await rolloutModel(
        await apisFrom(flags),
        {
          targetArn: flags.targetArn,
          modelDir: resolve(flags.modelDir),
          modelComponent: flags.modelComponent,
          modelVersion: flags.modelVersion,
          bucket: flags.bucket,
          ...(flags.description ? { description: flags.description } : {}),
          templatePath: findTemplate(),
          buildDir: resolve(flags.buildDir),
          keepPrevious: flags.keepPrevious,
          inspector: flags.inspector,
          modelServer: flags.modelServer,
          ...(flags.deploymentName ? { deploymentName: flags.deploymentName } : {}),
          ...rolloutFrom(flags),
        },
        waitFrom(flags),
        progress,
      );
      print(result);
    },
  );

  withAwsOptions(
    deploy
      .command('status')
      .description('core devices with their effective deployments and installed component states')
      .option('--thing-group-arn <arn>', 'the things in this thing group now (child groups included), with their execution of its current deployment')
      .option('--core-device <thingName>', 'only this core device')
      .option('--json', 'print JSON'),
    false,
  ).action(async (flags: AwsFlags & { thingGroupArn?: string; coreDevice?: string; json?: boolean }) => {
    const { fleetStatus, formatStatus } = await import('../../deploy/status.js');
    const devices = await fleetStatus(await apisFrom(flags), {
      ...(flags.thingGroupArn ? { thingGroupArn: flags.thingGroupArn } : {}),
      ...(flags.coreDevice ? { coreDevice: flags.coreDevice } : {}),
    });
    if (flags.json) print({ devices });
    else process.stdout.write(formatStatus(devices));
  });

  withAwsOptions(
    deploy
      .command('package-lfv-model')
      .description('package a Lookout for Vision model as a Greengrass component (StartModelPackagingJob) - only for accounts where the ended service still answers')
      .requiredOption('--project <name>', 'Lookout for Vision project')
      .requiredOption('--model-version <n>', 'model version in the project')
      .requiredOption('--component-name <name>', 'Greengrass component to create')
      .option('--component-version <version>', 'component version (default <model version>.0.0)')
      .requiredOption('--bucket <bucket>', 'S3 bucket for the packaged artifacts')
      .option('--prefix <prefix>', 'S3 key prefix')
      .option('--target-device <device>', 'jetson_xavier')
      .option('--target-platform <os/arch[/accelerator]>', 'e.g. linux/arm64/nvidia or linux/x86_64')
      .option('--compiler-options <json>', 'e.g. {"gpu-code":"sm_72","trt-ver":"8.2.1","cuda-ver":"10.2"} or {"mcpu":"core-avx2"}')
      .option('--job-name <name>', 'packaging job name'),
    false,
  ).action(
    async (
      flags: AwsFlags & {
        project: string;
        modelVersion: string;
        componentName: string;
        componentVersion?: string;
        bucket: string;
        prefix?: string;
        targetDevice?: string;
        targetPlatform?: string;
        compilerOptions?: string;
        jobName?: string;
      },
    ) => {
      const { packageLfvModel } = await import('../../deploy/package-lfv-model.js');
      const request: Omit<ModelPackagingRequest, 'clientToken'> = {
        projectName: flags.project,
        modelVersion: flags.modelVersion,
        componentName: flags.componentName,
        bucket: flags.bucket,
        ...(flags.componentVersion ? { componentVersion: flags.componentVersion } : {}),
        ...(flags.prefix ? { prefix: flags.prefix } : {}),
        ...(flags.compilerOptions ? { compilerOptions: flags.compilerOptions } : {}),
        ...(flags.jobName ? { jobName: flags.jobName } : {}),
      };
      if (flags.targetDevice && flags.targetPlatform) throw new LookoutError('USAGE', 'give --target-device or --target-platform, not both');
      if (flags.targetDevice) {
        if (flags.targetDevice !== 'jetson_xavier') throw new LookoutError('USAGE', '--target-device: only jetson_xavier');
        request.targetDevice = 'jetson_xavier';
      } else {
        const [os, arch, accelerator] = (flags.targetPlatform ?? '').toLowerCase().split('/');
        const archs: Record<string, 'ARM64' | 'X86_64'> = { arm64: 'ARM64', aarch64: 'ARM64', x86_64: 'X86_64', x64: 'X86_64', amd64: 'X86_64' };
        if (os !== 'linux' || !arch || !archs[arch] || (accelerator && accelerator !== 'nvidia')) {
          throw new LookoutError('USAGE', '--target-platform must be linux/arm64, linux/x86_64, optionally /nvidia (or give --target-device jetson_xavier)');
        }
        request.targetPlatform = { os: 'LINUX', arch: archs[arch], ...(accelerator ? { accelerator: 'NVIDIA' as const } : {}) };
      }
      const { lookoutVision } = await apisFrom(flags);
      const job = await packageLfvModel({ lookoutVision }, request, { timeoutMs: flags.timeout * 1000, pollIntervalMs: flags.pollInterval * 1000 }, progress);
      print(job);
    },
  );
  return deploy;
}
