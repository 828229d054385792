/**
 * The inspector's least-privilege Greengrass authorization policies, derived from the topic prefix.
 * Topics (see src/publish/topics.ts): `<prefix>/<thing>/<camera>/{verdict,reject,mask,trigger}`,
 * `<prefix>/<thing>/{state,health}`, `<prefix>/<thing>/command/{request,response}`.
 *
 * The recipe writes the default prefix out (policies cannot read configuration); a test keeps it equal to
 * this function, and `lookout-edge deploy` merges the policies again when a deployment changes the prefix.
 */
export const THING = '{iot:thingName}';

export type AccessControl = Record<string, Record<string, { policyDescription: string; operations: string[]; resources: string[] }>>;

export function inspectorAccessControl(prefix: string, component = 'com.lookout-edge.Inspector'): AccessControl {
  const base = `${prefix}/${THING}`;
  return {
    'aws.greengrass.ipc.mqttproxy': {
      [`${component}:mqttproxy:publish`]: {
        policyDescription: "Publish verdicts, rejects and masks per camera, the thing's state and health, and command responses.",
        operations: ['aws.greengrass#PublishToIoTCore'],
        resources: [`${base}/+/verdict`, `${base}/+/reject`, `${base}/+/mask`, `${base}/state`, `${base}/health`, `${base}/command/response`],
      },
      [`${component}:mqttproxy:subscribe`]: {
        policyDescription: 'Receive capture triggers per camera and operator commands.',
        operations: ['aws.greengrass#SubscribeToIoTCore'],
        resources: [`${base}/+/trigger`, `${base}/command/request`],
      },
    },
    'aws.greengrass.ipc.pubsub': {
      [`${component}:pubsub:reject`]: {
        policyDescription: 'Publish reject signals to local components.',
        operations: ['aws.greengrass#PublishToTopic'],
        resources: [`${base}/*/reject`],
      },
      [`${component}:pubsub:trigger`]: {
        policyDescription: 'Receive capture triggers per camera from local components (a PLC bridge).',
        operations: ['aws.greengrass#SubscribeToTopic'],
        resources: [`${base}/*/trigger`],
      },
    },
  };
}
