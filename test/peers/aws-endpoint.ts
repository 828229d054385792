import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parse as parseYaml } from 'yaml';
import { type ExecutionReport, IotJobsModel } from './aws-endpoint-iot.js';

/**
 * A local stand-in for the AWS APIs the fleet CLI calls, speaking their wire protocols (REST-JSON for
 * Greengrass v2, the IoT control plane and Lookout for Vision, REST-XML errors for S3) so that the real SDK
 * clients, pointed at it with an endpoint override and static fake credentials, drive it. It keeps a small
 * in-memory Greengrass (components, deployments, core devices), the IoT registry's thing groups and each
 * deployment's IoT job (aws-endpoint-iot.ts), records every request, and can answer errors or throttling.
 *
 * Sharp edge copied from the GreengrassV2 API reference (ListCoreDevices, `thingGroupArn`): filtered by a
 * thing group, ListCoreDevices lists only core devices that have successfully deployed a deployment that
 * targets the group, and keeps listing a device after it is removed from the group.
 */

export interface RecordedRequest {
  operation: string;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The parsed JSON body, when there is one. */
  json?: Record<string, unknown>;
  /** From the SigV4 credential scope: greengrass, iot, s3, lookoutvision. */
  signingService?: string;
}

export interface ErrorReply {
  status: number;
  /** AWS error name: ThrottlingException, AccessDeniedException, SlowDown… */
  name: string;
  message: string;
}

export interface StoredDeployment {
  deploymentId: string;
  targetArn: string;
  deploymentName?: string;
  revisionId: string;
  deploymentStatus: string;
  components: Record<string, unknown>;
  deploymentPolicies?: unknown;
  iotJobConfiguration?: unknown;
  creationTimestamp: number;
  iotJobId: string;
  iotJobArn: string;
}

export interface CoreDeviceState {
  thingName: string;
  /** The thing groups it belongs to now (the IoT registry). */
  groupArns: string[];
  /** Groups whose deployment it has completed: what ListCoreDevices filters on (kept after removal). */
  deployedGroups: string[];
  /** False for a thing that has never connected as a Greengrass core device (Greengrass answers 404 for it). */
  registered: boolean;
  status: 'HEALTHY' | 'UNHEALTHY';
  installed: { componentName: string; componentVersion: string; lifecycleState: string; lifecycleStateDetails?: string; isRoot?: boolean }[];
}

type Route = { operation: string; params: Record<string, string> };

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';

export class AwsEndpoint {
  readonly requests: RecordedRequest[] = [];
  readonly objects = new Map<string, Buffer>();
  readonly components = new Map<string, { name: string; version: string; recipe: Record<string, unknown>; describeCalls: number }>();
  readonly deployments = new Map<string, StoredDeployment>();
  readonly devices: CoreDeviceState[] = [];
  /** States DescribeComponent reports after CreateComponentVersion, one per call; the last one repeats. */
  componentStates: { state: string; message?: string; errors?: Record<string, string> }[] = [{ state: 'DEPLOYABLE' }];
  /** Thing group ARN → its parent group's ARN, if any. */
  readonly thingGroups = new Map<string, string | undefined>();
  /**
   * How a device's execution of a deployment's job moves on, asked each time a running execution is observed
   * (ListJobExecutionsForJob, ListEffectiveDeployments; call = 1, 2, …).
   */
  deviceProgress: (deploymentId: string, thingName: string, call: number) => ExecutionReport = () => ({ status: 'SUCCEEDED' });
  readonly iot = new IotJobsModel({
    region: REGION,
    account: ACCOUNT,
    membersOf: (targetArn) => this.membersOf(targetArn),
    progress: (deploymentId, thingName, call) => this.deviceProgress(deploymentId, thingName, call),
    succeeded: (thingName, targetArn) => {
      const device = this.devices.find((d) => d.thingName === thingName);
      if (device && targetArn.includes(':thinggroup/') && !device.deployedGroups.includes(targetArn)) device.deployedGroups.push(targetArn);
    },
  });
  /** Lookout for Vision packaging job states, one per DescribeModelPackagingJob; the last one repeats. */
  packagingStates: { Status: string; StatusMessage?: string }[] = [{ Status: 'SUCCEEDED' }];
  /** Operations that never answer (to exercise deadlines). */
  readonly hanging = new Set<string>();
  private readonly failures: { operation: string; reply: ErrorReply; remaining: number }[] = [];
  private readonly open = new Set<ServerResponse>();
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.open) res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** The next `times` calls of `operation` answer this error. */
  failNext(operation: string, reply: ErrorReply, times = 1): void {
    this.failures.push({ operation, reply, remaining: times });
  }

  /** Requests of one operation, in order. */
  calls(operation: string): RecordedRequest[] {
    return this.requests.filter((r) => r.operation === operation);
  }

  addCoreDevice(device: Partial<CoreDeviceState> & { thingName: string }): void {
    this.devices.push({ groupArns: [], deployedGroups: [], registered: true, status: 'HEALTHY', installed: [], ...device });
    for (const group of device.groupArns ?? []) if (!this.thingGroups.has(group)) this.thingGroups.set(group, undefined);
  }

  /** A thing group, optionally a child of another (a job or listing of the parent includes its members). */
  addThingGroup(groupArn: string, parentArn?: string): void {
    this.thingGroups.set(groupArn, parentArn);
  }

  /** RemoveThingFromThingGroup: the device stays listed by ListCoreDevices for that group. */
  removeFromGroup(thingName: string, groupArn: string): void {
    const device = this.devices.find((d) => d.thingName === thingName);
    if (device) device.groupArns = device.groupArns.filter((g) => g !== groupArn);
  }

  /** The things a target addresses now: the thing, or the members of the group and of its child groups. */
  membersOf(targetArn: string, recursive = true): string[] {
    if (targetArn.includes(':thing/')) return [targetArn.slice(targetArn.indexOf(':thing/') + ':thing/'.length)];
    const groups = new Set([targetArn]);
    for (let grew = recursive; grew; ) {
      grew = false;
      for (const [child, parent] of this.thingGroups) {
        if (parent && groups.has(parent) && !groups.has(child)) {
          groups.add(child);
          grew = true;
        }
      }
    }
    return this.devices.filter((d) => d.groupArns.some((g) => groups.has(g))).map((d) => d.thingName);
  }

  /** Seeds the target's current deployment, as an earlier `deploy` would have left it. */
  seedDeployment(targetArn: string, components: Record<string, unknown>, deploymentName = 'line-1'): StoredDeployment {
    const deploymentId = randomUUID();
    const job = this.iot.create(deploymentId, targetArn);
    const deployment: StoredDeployment = {
      deploymentId,
      iotJobId: job.jobId,
      iotJobArn: job.jobArn,
      targetArn,
      deploymentName,
      revisionId: String(this.deployments.size + 1),
      deploymentStatus: 'ACTIVE',
      components,
      creationTimestamp: Date.now() / 1000,
    };
    this.deployments.set(deployment.deploymentId, deployment);
    return deployment;
  }

  latestFor(targetArn: string): StoredDeployment | undefined {
    return [...this.deployments.values()].filter((d) => d.targetArn === targetArn).at(-1);
  }

  private route(method: string, path: string): Route {
    const seg = path.split('/').slice(1).map(decodeURIComponent);
    const is = (m: string, ...parts: (string | null)[]) => method === m && seg.length === parts.length && parts.every((p, i) => p === null || p === seg[i]);
    if (seg[0] === 'greengrass' && seg[1] === 'v2') {
      if (is('POST', 'greengrass', 'v2', 'createComponentVersion')) return { operation: 'CreateComponentVersion', params: {} };
      if (is('GET', 'greengrass', 'v2', 'components', null, 'metadata')) return { operation: 'DescribeComponent', params: { arn: seg[3]! } };
      if (is('GET', 'greengrass', 'v2', 'deployments')) return { operation: 'ListDeployments', params: {} };
      if (is('POST', 'greengrass', 'v2', 'deployments')) return { operation: 'CreateDeployment', params: {} };
      if (is('GET', 'greengrass', 'v2', 'deployments', null)) return { operation: 'GetDeployment', params: { deploymentId: seg[3]! } };
      if (is('GET', 'greengrass', 'v2', 'coreDevices')) return { operation: 'ListCoreDevices', params: {} };
      if (is('GET', 'greengrass', 'v2', 'coreDevices', null)) return { operation: 'GetCoreDevice', params: { thing: seg[3]! } };
      if (is('GET', 'greengrass', 'v2', 'coreDevices', null, 'effectiveDeployments')) return { operation: 'ListEffectiveDeployments', params: { thing: seg[3]! } };
      if (is('GET', 'greengrass', 'v2', 'coreDevices', null, 'installedComponents')) return { operation: 'ListInstalledComponents', params: { thing: seg[3]! } };
    }
    // AWS IoT control plane (signing name iot).
    if (is('GET', 'jobs', null)) return { operation: 'DescribeJob', params: { jobId: seg[1]! } };
    if (is('GET', 'jobs', null, 'things')) return { operation: 'ListJobExecutionsForJob', params: { jobId: seg[1]! } };
    if (is('GET', 'things', null, 'jobs', null)) return { operation: 'DescribeJobExecution', params: { thing: seg[1]!, jobId: seg[3]! } };
    if (is('GET', 'thing-groups', null, 'things')) return { operation: 'ListThingsInThingGroup', params: { group: seg[1]! } };
    if (seg[0] === '2020-11-20' && seg[1] === 'projects' && seg[3] === 'modelpackagingjobs') {
      if (method === 'POST' && seg.length === 4) return { operation: 'StartModelPackagingJob', params: { project: seg[2]! } };
      if (method === 'GET' && seg.length === 5) return { operation: 'DescribeModelPackagingJob', params: { project: seg[2]!, job: seg[4]! } };
    }
    if (method === 'PUT' && seg.length >= 2) return { operation: 'PutObject', params: { bucket: seg[0]!, key: seg.slice(1).join('/') } };
    return { operation: `Unknown ${method} ${path}`, params: {} };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = this.route(req.method ?? 'GET', url.pathname);
    let json: Record<string, unknown> | undefined;
    if (route.operation !== 'PutObject' && body.length > 0) {
      try {
        json = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
      } catch {
        json = undefined;
      }
    }
    const scope = /Credential=[^/]+\/\d+\/[^/]+\/([^/]+)\/aws4_request/.exec(String(req.headers.authorization ?? ''));
    this.requests.push({
      operation: route.operation,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body,
      ...(json ? { json } : {}),
      ...(scope?.[1] ? { signingService: scope[1] } : {}),
    });

    if (this.hanging.has(route.operation)) {
      this.open.add(res);
      return;
    }
    const failure = this.failures.find((f) => f.operation === route.operation && f.remaining > 0);
    if (failure) {
      failure.remaining -= 1;
      return route.operation === 'PutObject' ? this.xmlError(res, failure.reply) : this.jsonError(res, failure.reply);
    }
    try {
      this.answer(route, url, json ?? {}, body, res);
    } catch (err) {
      this.jsonError(res, { status: 500, name: 'InternalServerException', message: (err as Error).message });
    }
  }

  private answer(route: Route, url: URL, json: Record<string, unknown>, body: Buffer, res: ServerResponse): void {
    const send = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json', 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify(value));
    };
    const describe = (arn: string, state: { state: string; message?: string; errors?: Record<string, string> }) => {
      const c = this.components.get(arn)!;
      return { arn, componentName: c.name, componentVersion: c.version, creationTimestamp: Date.now() / 1000, status: { componentState: state.state, message: state.message ?? 'NONE', errors: state.errors ?? {} } };
    };
    switch (route.operation) {
      case 'CreateComponentVersion': {
        const recipe = parseYaml(Buffer.from(String(json.inlineRecipe), 'base64').toString('utf8')) as Record<string, unknown>;
        const arn = `arn:aws:greengrass:${REGION}:${ACCOUNT}:components:${String(recipe.ComponentName)}:versions:${String(recipe.ComponentVersion)}`;
        if (this.components.has(arn)) return this.jsonError(res, { status: 409, name: 'ConflictException', message: `Component ${String(recipe.ComponentName)} version ${String(recipe.ComponentVersion)} already exists` });
        this.components.set(arn, { name: String(recipe.ComponentName), version: String(recipe.ComponentVersion), recipe, describeCalls: 0 });
        return send(201, describe(arn, { state: 'REQUESTED' }));
      }
      case 'DescribeComponent': {
        const c = this.components.get(route.params.arn!);
        if (!c) return this.jsonError(res, { status: 404, name: 'ResourceNotFoundException', message: `no component ${route.params.arn}` });
        const state = this.componentStates[Math.min(c.describeCalls, this.componentStates.length - 1)]!;
        c.describeCalls += 1;
        return send(200, describe(route.params.arn!, state));
      }
      case 'ListDeployments': {
        const target = url.searchParams.get('targetArn');
        const latest = target ? this.latestFor(target) : undefined;
        const list = latest ? [latest] : [];
        return send(200, { deployments: list.map((d) => ({ targetArn: d.targetArn, revisionId: d.revisionId, deploymentId: d.deploymentId, deploymentName: d.deploymentName, creationTimestamp: d.creationTimestamp, deploymentStatus: d.deploymentStatus, isLatestForTarget: true })) });
      }
      case 'GetDeployment': {
        const d = this.deployments.get(route.params.deploymentId!);
        if (!d) return this.jsonError(res, { status: 404, name: 'ResourceNotFoundException', message: 'no such deployment' });
        return send(200, { ...d, isLatestForTarget: this.latestFor(d.targetArn) === d });
      }
      case 'CreateDeployment': {
        const deploymentId = randomUUID();
        const job = this.iot.create(deploymentId, String(json.targetArn));
        const d: StoredDeployment = {
          deploymentId,
          iotJobId: job.jobId,
          iotJobArn: job.jobArn,
          targetArn: String(json.targetArn),
          ...(json.deploymentName ? { deploymentName: String(json.deploymentName) } : {}),
          revisionId: String(this.deployments.size + 1),
          deploymentStatus: 'ACTIVE',
          components: (json.components ?? {}) as Record<string, unknown>,
          deploymentPolicies: json.deploymentPolicies,
          iotJobConfiguration: json.iotJobConfiguration,
          creationTimestamp: Date.now() / 1000,
        };
        this.deployments.set(d.deploymentId, d);
        return send(201, { deploymentId: d.deploymentId, iotJobId: d.iotJobId, iotJobArn: d.iotJobArn });
      }
      case 'ListCoreDevices': {
        const group = url.searchParams.get('thingGroupArn');
        // Only devices that already deployed to the group, removed ones included (see the class comment).
        const devices = this.devices.filter((d) => d.registered && (!group || d.deployedGroups.includes(group)));
        return send(200, { coreDevices: devices.map((d) => ({ coreDeviceThingName: d.thingName, status: d.status, lastStatusUpdateTimestamp: Date.now() / 1000, platform: 'linux', architecture: 'aarch64' })) });
      }
      case 'GetCoreDevice': {
        const d = this.devices.find((x) => x.thingName === route.params.thing && x.registered);
        if (!d) return this.jsonError(res, { status: 404, name: 'ResourceNotFoundException', message: `no core device ${route.params.thing}` });
        return send(200, { coreDeviceThingName: d.thingName, status: d.status, lastStatusUpdateTimestamp: Date.now() / 1000, platform: 'linux', architecture: 'aarch64', tags: {} });
      }
      case 'ListEffectiveDeployments': {
        const thing = route.params.thing!;
        const device = this.devices.find((d) => d.thingName === thing && d.registered);
        if (!device) return this.jsonError(res, { status: 404, name: 'ResourceNotFoundException', message: `no core device ${thing}` });
        const targets = new Set([...this.deployments.values()].map((d) => d.targetArn));
        const effective = [...targets].filter((t) => this.membersOf(t).includes(thing)).map((t) => this.latestFor(t)!);
        return send(200, {
          effectiveDeployments: effective.map((d) => {
            const execution = this.iot.observe(this.iot.jobs.get(d.iotJobId)!, thing);
            const reason = execution?.detailsMap['deployment-failure-cause'];
            return {
              deploymentId: d.deploymentId,
              deploymentName: d.deploymentName,
              iotJobId: d.iotJobId,
              iotJobArn: d.iotJobArn,
              targetArn: d.targetArn,
              coreDeviceExecutionStatus: execution?.status ?? 'QUEUED',
              ...(reason ? { reason } : {}),
              creationTimestamp: d.creationTimestamp,
              modifiedTimestamp: Date.now() / 1000,
            };
          }),
        });
      }
      case 'DescribeJob':
      case 'ListJobExecutionsForJob':
      case 'DescribeJobExecution': {
        const { jobId, thing } = route.params;
        const found =
          route.operation === 'DescribeJob' ? this.iot.describeJob(jobId!) : route.operation === 'DescribeJobExecution' ? this.iot.describeExecution(jobId!, thing!) : this.iot.listExecutions(jobId!, url.searchParams);
        if (found === undefined) return this.jsonError(res, { status: 404, name: 'ResourceNotFoundException', message: `no job ${jobId}${thing ? ` execution on ${thing}` : ''}` });
        return send(200, found);
      }
      case 'ListThingsInThingGroup': {
        const groupArn = `arn:aws:iot:${REGION}:${ACCOUNT}:thinggroup/${route.params.group}`;
        if (!this.thingGroups.has(groupArn)) return this.jsonError(res, { status: 404, name: 'ResourceNotFoundException', message: `Thing group ${route.params.group} does not exist` });
        const { page, nextToken } = this.iot.page(this.membersOf(groupArn, url.searchParams.get('recursive') === 'true'), url.searchParams);
        return send(200, { things: page, ...(nextToken ? { nextToken } : {}) });
      }
      case 'ListInstalledComponents': {
        const device = this.devices.find((d) => d.thingName === route.params.thing);
        if (!device) return this.jsonError(res, { status: 404, name: 'ResourceNotFoundException', message: `no core device ${route.params.thing}` });
        return send(200, { installedComponents: device.installed });
      }
      case 'PutObject': {
        this.objects.set(`${route.params.bucket}/${route.params.key}`, body);
        res.writeHead(200, { etag: '"0"' });
        return void res.end();
      }
      case 'StartModelPackagingJob': {
        return send(200, { JobName: String(json.JobName ?? `job-${randomUUID().slice(0, 8)}`) });
      }
      case 'DescribeModelPackagingJob': {
        const calls = this.calls('DescribeModelPackagingJob').length;
        const state = this.packagingStates[Math.min(calls - 1, this.packagingStates.length - 1)]!;
        return send(200, {
          ModelPackagingDescription: {
            JobName: route.params.job,
            ProjectName: route.params.project,
            ...state,
            ModelPackagingOutputDetails: { Greengrass: { ComponentName: 'lfv-model', ComponentVersion: '1.0.0', ComponentVersionArn: `arn:aws:greengrass:${REGION}:${ACCOUNT}:components:lfv-model:versions:1.0.0` } },
          },
        });
      }
      default:
        return this.jsonError(res, { status: 404, name: 'UnknownOperationException', message: route.operation });
    }
  }

  private jsonError(res: ServerResponse, reply: ErrorReply): void {
    res.writeHead(reply.status, { 'content-type': 'application/json', 'x-amzn-errortype': reply.name, 'x-amzn-requestid': randomUUID() });
    res.end(JSON.stringify({ message: reply.message }));
  }

  private xmlError(res: ServerResponse, reply: ErrorReply): void {
    res.writeHead(reply.status, { 'content-type': 'application/xml', 'x-amz-request-id': randomUUID() });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${reply.name}</Code><Message>${reply.message}</Message><RequestId>1</RequestId></Error>`);
  }
}

/** Fake static credentials for the SDK clients in tests. */
export const FAKE_CREDENTIALS = { accessKeyId: 'AKIDLOOKOUTEDGETEST', secretAccessKey: 'not-a-secret' };
export const TEST_REGION = REGION;
export const TEST_ACCOUNT = ACCOUNT;
