import { spawn } from 'node:child_process';
import { discoverGenicamCameras } from '../../sources/genicam/discover.js';

export interface SimulatedGenicam {
  readonly address: string;
  readonly serial: string;
  stop(): Promise<void>;
}

const BINARY = 'arv-fake-gv-camera-0.8';
const SERIAL = 'DEMO0001';
const READY_WITHIN_MS = 15_000;

/**
 * Aravis's simulated GigE Vision camera (Debian aravis-tools) on 127.0.0.1, for the demo. Resolves
 * once discovery lists it; undefined when it is not installed or cannot start (GigE Vision's control
 * port 3956 allows one on the machine).
 */
export async function startSimulatedGenicam(pythonPath: string): Promise<SimulatedGenicam | undefined> {
  const child = spawn(BINARY, ['-i', '127.0.0.1', '-s', SERIAL], { stdio: 'ignore' });
  let exited = false;
  const gone = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
    child.once('error', () => {
      exited = true;
      resolve();
    });
  });
  const stop = async (): Promise<void> => {
    if (!exited) child.kill('SIGTERM');
    await gone;
  };
  const deadline = Date.now() + READY_WITHIN_MS;
  while (!exited && Date.now() < deadline) {
    const cameras = await discoverGenicamCameras({ pythonPath, timeoutMs: 5_000 }).catch(() => []);
    if (cameras.some((c) => c.serial === SERIAL)) return { address: '127.0.0.1', serial: SERIAL, stop };
  }
  await stop();
  return undefined;
}
