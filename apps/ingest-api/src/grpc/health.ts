import { dirname } from 'node:path';
import { HealthImplementation, protoPath, type ServingStatus } from 'grpc-health-check';
import type { ProcessHealth } from '@im/worker-kit';

/** grpc.health.v1's .proto, as shipped by grpc-health-check: its import path and file. */
export const HEALTH_PROTO = { dir: dirname(dirname(dirname(protoPath))), file: 'health/v1/health.proto' };

/**
 * grpc.health.v1.Health following the process's readiness (/ready): SERVING while it can take
 * traffic, NOT_SERVING while starting, without its message-id lease, or shutting down; for the
 * whole server ("") and for each service named. Readiness is sampled every `intervalMs` (Check
 * answers the last sample; Watch streams get each change), and NOT_SERVING is set at once by stop().
 */
export function readinessHealth(health: ProcessHealth, services: readonly string[], intervalMs = 500) {
  const impl = new HealthImplementation();
  let last: ServingStatus | undefined;
  const set = (status: ServingStatus) => {
    if (status === last) return;
    last = status;
    for (const name of ['', ...services]) impl.setStatus(name, status);
  };
  const sample = () => set(health.readiness().ready ? 'SERVING' : 'NOT_SERVING');
  sample();
  const timer = setInterval(sample, intervalMs);
  timer.unref();
  return {
    addToServer: (server: Parameters<HealthImplementation['addToServer']>[0]) => impl.addToServer(server),
    stop() {
      clearInterval(timer);
      set('NOT_SERVING');
    },
  };
}
