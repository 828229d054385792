/**
 * The inspector's Greengrass authorization policies, derived from the topic prefix.
 * Topics (see src/publish/topics.ts): `<prefix>/<thing>/<camera>/{verdict,reject,mask,trigger}`,
 * `<prefix>/<thing>/{state,health}`, `<prefix>/<thing>/command/{request,response}`.
 *
 * The thing segment is a wildcard, not `{iot:thingName}`: the nucleus interpolates recipe variables in
 * `accessControl` only when its `interpolateComponentConfiguration` is true (default false; IPC authorization
 * docs, "Recipe variables in authorization policies"), and otherwise matches the literal text, refusing every
 * call. The thing is pinned where AWS does interpolate: the device certificate's IoT policy
 * (`${iot:Connection.Thing.ThingName}`, see recipes/README.md).
 *
 * Matching differs per service: IoT Core (`mqttproxy`) resources are MQTT filters (`+` one level, `#` the
 * rest); local pub/sub (`pubsub`) resources are globs where `*` matches any characters, `/` included, and
 * `+`/`#` are literal. The recipe writes the default prefix out (policies cannot read configuration); a test
 * keeps it equal to this function, and `lookout-edge deploy` merges the policies again when a deployment
 * changes the prefix.
 */
export type AccessControl = Record<string, Record<string, { policyDescription: string; operations: string[]; resources: string[] }>>;

export function inspectorAccessControl(prefix: string, component = 'com.lookoutedge.Inspector'): AccessControl {
  const cloud = `${prefix}/+`;
  const local = `${prefix}/*`;
  return {
    'aws.greengrass.ipc.mqttproxy': {
      [`${component}:mqttproxy:publish`]: {
        policyDescription: "Publish verdicts, rejects and masks per camera, the thing's state and health, and command responses.",
        operations: ['aws.greengrass#PublishToIoTCore'],
        resources: [`${cloud}/+/verdict`, `${cloud}/+/reject`, `${cloud}/+/mask`, `${cloud}/state`, `${cloud}/health`, `${cloud}/command/response`],
      },
      [`${component}:mqttproxy:subscribe`]: {
        policyDescription: 'Receive capture triggers per camera and operator commands.',
        operations: ['aws.greengrass#SubscribeToIoTCore'],
        resources: [`${cloud}/+/trigger`, `${cloud}/command/request`],
      },
    },
    'aws.greengrass.ipc.pubsub': {
      [`${component}:pubsub:publish`]: {
        policyDescription: "Publish reject signals and the inspector's state to local components.",
        operations: ['aws.greengrass#PublishToTopic'],
        resources: [`${local}/reject`, `${local}/state`],
      },
      [`${component}:pubsub:trigger`]: {
        policyDescription: 'Receive capture triggers per camera from local components (a PLC bridge).',
        operations: ['aws.greengrass#SubscribeToTopic'],
        resources: [`${local}/trigger`],
      },
    },
  };
}
