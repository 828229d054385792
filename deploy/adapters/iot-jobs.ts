import { DescribeJobCommand, DescribeJobExecutionCommand, type IoTClient, ListJobExecutionsForJobCommand, ListThingsInThingGroupCommand } from '@aws-sdk/client-iot';
import type { IotJobsApi } from '../api.js';
import { call, callOrMissing, paginate } from './sdk-call.js';

/** `arn:aws:iot:<region>:<account>:thing/<name>` → `<name>`. */
const thingNameOfArn = (arn: string | undefined): string => /:thing\/(.+)$/.exec(arn ?? '')?.[1] ?? arn ?? '';

/**
 * The AWS IoT control-plane calls that follow a Greengrass deployment's job (REST-JSON, signing name `iot`):
 * DescribeJob `GET /jobs/{jobId}`, ListJobExecutionsForJob `GET /jobs/{jobId}/things`, DescribeJobExecution
 * `GET /things/{thingName}/jobs/{jobId}`, ListThingsInThingGroup `GET /thing-groups/{name}/things`.
 */
export function createIotJobsApi(client: IoTClient, deadline: () => { abortSignal: AbortSignal }): IotJobsApi {
  return {
    describeJob: (jobId) =>
      call('DescribeJob', async () => {
        const { job } = await client.send(new DescribeJobCommand({ jobId }), deadline());
        const d = job?.jobProcessDetails ?? {};
        return {
          jobId,
          status: job?.status ?? 'IN_PROGRESS',
          counts: {
            queued: d.numberOfQueuedThings ?? 0,
            inProgress: d.numberOfInProgressThings ?? 0,
            succeeded: d.numberOfSucceededThings ?? 0,
            failed: d.numberOfFailedThings ?? 0,
            rejected: d.numberOfRejectedThings ?? 0,
            timedOut: d.numberOfTimedOutThings ?? 0,
            canceled: d.numberOfCanceledThings ?? 0,
            removed: d.numberOfRemovedThings ?? 0,
          },
          ...(job?.reasonCode ? { reasonCode: job.reasonCode } : {}),
          ...(job?.comment ? { comment: job.comment } : {}),
        };
      }),
    listJobExecutions: (jobId) =>
      call('ListJobExecutionsForJob', () =>
        paginate(async (nextToken) => {
          const out = await client.send(new ListJobExecutionsForJobCommand({ jobId, maxResults: 250, nextToken }), deadline());
          return {
            items: (out.executionSummaries ?? []).map((e) => ({ thingName: thingNameOfArn(e.thingArn), status: e.jobExecutionSummary?.status ?? 'QUEUED' })),
            nextToken: out.nextToken,
          };
        }),
      ),
    describeJobExecution: (jobId, thingName) =>
      callOrMissing('DescribeJobExecution', async () => {
        const { execution } = await client.send(new DescribeJobExecutionCommand({ jobId, thingName }), deadline());
        const details = execution?.statusDetails?.detailsMap;
        return { thingName, status: execution?.status ?? 'QUEUED', ...(details && Object.keys(details).length > 0 ? { details } : {}) };
      }),
    listThingsInGroup: (thingGroupName) =>
      call('ListThingsInThingGroup', () =>
        paginate(async (nextToken) => {
          const out = await client.send(new ListThingsInThingGroupCommand({ thingGroupName, recursive: true, maxResults: 250, nextToken }), deadline());
          return { items: out.things ?? [], nextToken: out.nextToken };
        }),
      ),
  };
}
