import type { AwsApis, CoreDevice, EffectiveDeployment, InstalledComponent } from './api.js';
import { currentDeployment } from './deployment.js';
import { targetThings } from './job-progress.js';
import { mapLimit } from './map-limit.js';
import { parseTarget } from './target-arn.js';

/** A thing of the group that has never connected as a Greengrass core device. */
export const NOT_REGISTERED = 'NOT_REGISTERED';

export interface DeviceStatus extends CoreDevice {
  deployments: EffectiveDeployment[];
  components: InstalledComponent[];
  /** With a thing group: this device's execution of the group's current deployment (QUEUED until it runs it). */
  groupDeployment?: { deploymentId: string; status: string };
}

/**
 * Core devices with their effective deployments and installed components: every thing in a thing group now
 * (ListThingsInThingGroup, child groups included: ListCoreDevices by group would list only devices that
 * already deployed to it, and keep removed ones), one core device by name, or every core device.
 */
export async function fleetStatus(apis: Pick<AwsApis, 'greengrass' | 'iot'>, filter: { thingGroupArn?: string; coreDevice?: string }): Promise<DeviceStatus[]> {
  let devices: CoreDevice[];
  let executions: Map<string, string> | undefined;
  let deploymentId: string | undefined;
  if (filter.coreDevice) {
    devices = [{ thingName: filter.coreDevice, status: 'UNKNOWN' }];
  } else if (filter.thingGroupArn) {
    const target = parseTarget(filter.thingGroupArn);
    const [members, deployment] = await Promise.all([targetThings(apis, target), currentDeployment(apis, filter.thingGroupArn)]);
    devices = await mapLimit(members, 4, async (thingName) => (await apis.greengrass.getCoreDevice(thingName)) ?? { thingName, status: NOT_REGISTERED });
    if (deployment?.iotJobId) {
      deploymentId = deployment.deploymentId;
      executions = new Map((await apis.iot.listJobExecutions(deployment.iotJobId)).map((e) => [e.thingName, e.status]));
    }
  } else {
    devices = await apis.greengrass.listCoreDevices({});
  }
  return mapLimit(devices, 4, async (device) => {
    const groupDeployment = deploymentId && executions ? { groupDeployment: { deploymentId, status: executions.get(device.thingName) ?? 'QUEUED' } } : {};
    if (device.status === NOT_REGISTERED) return { ...device, deployments: [], components: [], ...groupDeployment };
    const [deployments, components] = await Promise.all([apis.greengrass.listEffectiveDeployments(device.thingName), apis.greengrass.listInstalledComponents(device.thingName)]);
    return { ...device, deployments, components, ...groupDeployment };
  });
}

/** A plain-text report, one block per device. */
export function formatStatus(devices: readonly DeviceStatus[]): string {
  if (devices.length === 0) return 'no core devices\n';
  const lines: string[] = [];
  for (const d of devices) {
    if (d.status === NOT_REGISTERED) {
      lines.push(`${d.thingName}  ${NOT_REGISTERED}  (not a Greengrass core device yet: it has never connected)`);
    } else {
      lines.push(`${d.thingName}  ${d.status}${d.architecture ? `  ${d.platform ?? ''}/${d.architecture}` : ''}${d.lastStatusUpdate ? `  last seen ${d.lastStatusUpdate.toISOString()}` : ''}`);
    }
    if (d.groupDeployment) lines.push(`  group deployment ${d.groupDeployment.deploymentId}: ${d.groupDeployment.status}`);
    for (const dep of d.deployments) {
      lines.push(`  deployment ${dep.deploymentId}${dep.deploymentName ? ` (${dep.deploymentName})` : ''}: ${dep.status}${dep.reason ? ` - ${dep.reason}` : ''}`);
    }
    for (const c of d.components) {
      lines.push(`  ${c.componentName.padEnd(40)} ${c.componentVersion.padEnd(10)} ${c.lifecycleState}${c.lifecycleStateDetails ? ` - ${c.lifecycleStateDetails}` : ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
