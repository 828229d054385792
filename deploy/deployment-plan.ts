import { randomUUID } from 'node:crypto';
import { LookoutError } from '../src/core/errors.js';
import type { AbortCriterion, Deployment, DeploymentComponent, NewDeployment, RolloutConfig } from './api.js';
import { deepMerge, type Json, parseMergeDocument, withAccessControlForPrefix } from './config-merge.js';

export interface ComponentChange {
  /** New version; when absent the version of the current deployment is kept. */
  version?: string;
  /** Merged on top of the current deployment's merge for this component. */
  merge?: Json;
  /** Paths reset to their defaults before the merge (not carried into later deployments). */
  reset?: string[];
}

export interface RolloutOptions {
  rollout?: RolloutConfig;
  /** Cancel the rollout when this percentage of devices failed, once this many devices ran it. */
  abort?: { failureThresholdPercentage: number; minExecutedThings: number };
  /** IoT job execution timeout per device. */
  inProgressTimeoutMinutes?: number;
  /** How long components get to answer the nucleus's update notification / validate configuration. */
  componentUpdateTimeoutSeconds?: number;
}

export interface DeploymentChange extends RolloutOptions {
  targetArn: string;
  deploymentName?: string;
  components: Record<string, ComponentChange>;
  remove?: string[];
}

export const DEFAULT_ROLLOUT: Required<Pick<RolloutOptions, 'rollout' | 'abort' | 'componentUpdateTimeoutSeconds'>> = {
  rollout: { maximumPerMinute: 50 },
  abort: { failureThresholdPercentage: 10, minExecutedThings: 1 },
  componentUpdateTimeoutSeconds: 60,
};

/**
 * The next deployment for a target: the components of its current deployment are kept (a thing group has
 * one deployment; anything left out would be removed from every device), each one's configuration merge is
 * carried forward with the change merged on top (devices that join the group later receive only this
 * deployment), and failures roll back.
 */
export function planDeployment(current: Deployment | undefined, change: DeploymentChange): NewDeployment {
  const components: Record<string, DeploymentComponent> = {};
  for (const [name, component] of Object.entries(current?.components ?? {})) {
    if (change.remove?.includes(name)) continue;
    components[name] = {
      componentVersion: component.componentVersion,
      ...(component.configurationUpdate?.merge ? { configurationUpdate: { merge: component.configurationUpdate.merge } } : {}),
      ...(component.runWith ? { runWith: component.runWith } : {}),
    };
  }
  for (const [name, update] of Object.entries(change.components)) {
    if (change.remove?.includes(name)) throw new LookoutError('USAGE', `${name} is both changed and removed`);
    const previous = components[name];
    const version = update.version ?? previous?.componentVersion;
    if (!version) throw new LookoutError('USAGE', `${name} is not in the target's current deployment: give its version (--component ${name}=<version>)`);
    const carried = parseMergeDocument(previous?.configurationUpdate?.merge, `${name} in the current deployment`);
    const merged = withAccessControlForPrefix(name, update.merge ? deepMerge(carried, update.merge) : carried);
    const configurationUpdate = {
      ...(Object.keys(merged).length > 0 ? { merge: JSON.stringify(merged) } : {}),
      ...(update.reset?.length ? { reset: update.reset } : {}),
    };
    components[name] = {
      componentVersion: version,
      ...(Object.keys(configurationUpdate).length > 0 ? { configurationUpdate } : {}),
      ...(previous?.runWith ? { runWith: previous.runWith } : {}),
    };
  }
  for (const name of change.remove ?? []) {
    if (!current?.components[name]) throw new LookoutError('USAGE', `cannot remove ${name}: it is not in the target's current deployment`);
  }
  if (Object.keys(components).length === 0) throw new LookoutError('USAGE', 'the deployment would have no components');

  const abort = change.abort ?? DEFAULT_ROLLOUT.abort;
  const criteria: AbortCriterion[] = ['FAILED', 'TIMED_OUT'].map((failureType) => ({
    failureType: failureType as AbortCriterion['failureType'],
    action: 'CANCEL',
    thresholdPercentage: abort.failureThresholdPercentage,
    minNumberOfExecutedThings: abort.minExecutedThings,
  }));
  const updateTimeout = change.componentUpdateTimeoutSeconds ?? DEFAULT_ROLLOUT.componentUpdateTimeoutSeconds;
  return {
    targetArn: change.targetArn,
    deploymentName: change.deploymentName ?? current?.deploymentName ?? 'lookout-edge',
    components,
    iotJobConfiguration: {
      jobExecutionsRolloutConfig: change.rollout ?? DEFAULT_ROLLOUT.rollout,
      abortConfig: { criteriaList: criteria },
      ...(change.inProgressTimeoutMinutes ? { timeoutConfig: { inProgressTimeoutInMinutes: change.inProgressTimeoutMinutes } } : {}),
    },
    deploymentPolicies: {
      failureHandlingPolicy: 'ROLLBACK',
      componentUpdatePolicy: { action: 'NOTIFY_COMPONENTS', timeoutInSeconds: updateTimeout },
      configurationValidationPolicy: { timeoutInSeconds: updateTimeout },
    },
    clientToken: randomUUID(),
  };
}
