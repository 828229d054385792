export { createStatusServer, type StatusServer, type StatusServerDeps } from './status-server.js';
export { assessHealth, type HealthAssessment } from './health.js';
export { isLoopbackHost } from './auth.js';
export type { StatusMetrics } from './metrics.js';
