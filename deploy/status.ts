import type { AwsApis, CoreDevice, EffectiveDeployment, InstalledComponent } from './api.js';
import { mapLimit } from './map-limit.js';

export interface DeviceStatus extends CoreDevice {
  deployments: EffectiveDeployment[];
  components: InstalledComponent[];
}

/** Core devices (of a thing group, or one by name) with their effective deployments and installed components. */
export async function fleetStatus(apis: Pick<AwsApis, 'greengrass'>, filter: { thingGroupArn?: string; coreDevice?: string }): Promise<DeviceStatus[]> {
  const devices: CoreDevice[] = filter.coreDevice
    ? [{ thingName: filter.coreDevice, status: 'UNKNOWN' }]
    : await apis.greengrass.listCoreDevices(filter.thingGroupArn ? { thingGroupArn: filter.thingGroupArn } : {});
  return mapLimit(devices, 4, async (device) => {
    const [deployments, components] = await Promise.all([apis.greengrass.listEffectiveDeployments(device.thingName), apis.greengrass.listInstalledComponents(device.thingName)]);
    return { ...device, deployments, components };
  });
}

/** A plain-text report, one block per device. */
export function formatStatus(devices: readonly DeviceStatus[]): string {
  if (devices.length === 0) return 'no core devices\n';
  const lines: string[] = [];
  for (const d of devices) {
    lines.push(`${d.thingName}  ${d.status}${d.architecture ? `  ${d.platform ?? ''}/${d.architecture}` : ''}${d.lastStatusUpdate ? `  last seen ${d.lastStatusUpdate.toISOString()}` : ''}`);
    for (const dep of d.deployments) {
      lines.push(`  deployment ${dep.deploymentId}${dep.deploymentName ? ` (${dep.deploymentName})` : ''}: ${dep.status}${dep.reason ? ` - ${dep.reason}` : ''}`);
    }
    for (const c of d.components) {
      lines.push(`  ${c.componentName.padEnd(40)} ${c.componentVersion.padEnd(10)} ${c.lifecycleState}${c.lifecycleStateDetails ? ` - ${c.lifecycleStateDetails}` : ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
