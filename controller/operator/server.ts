// The controller's HTTP endpoints: Prometheus `/metrics` on the metrics address, `/healthz`
// (the process is alive and its loops turn) and `/readyz` (informers synced and, with leader
// election, this replica either leads or stands by healthily) on the probe address. One server
// serves both paths sets when the two addresses are equal.
import { createServer, type Server } from 'node:http';
import type { Counter, Gauge, Registry } from 'prom-client';

export interface OperatorMetrics {
  registry: Registry;
  reconciles: Counter<'result'>;
  errors: Counter<'kind'>;
  queueDepth: Gauge;
  runs: Gauge<'phase'>;
  predictionMessages: Counter<'kind'>;
  informerRestarts: Counter<'informer' | 'reason'>;
  isLeader: Gauge;
}

export async function createMetrics(): Promise<OperatorMetrics> {
  const p = await import('prom-client');
  const registry = new p.Registry();
  p.collectDefaultMetrics({ register: registry });
  const reg = { registers: [registry] };
  return {
    registry,
    reconciles: new p.Counter({ name: 'ablate_reconciles_total', help: 'FineTuneJob reconciles by result (ok, error, terminal)', labelNames: ['result'], ...reg }),
    errors: new p.Counter({ name: 'ablate_errors_total', help: 'Errors by kind (reconcile, api, informer, collector)', labelNames: ['kind'], ...reg }),
    queueDepth: new p.Gauge({ name: 'ablate_workqueue_depth', help: 'FineTuneJob keys waiting in the work queue', ...reg }),
    runs: new p.Gauge({ name: 'ablate_runs', help: 'Runs of all watched FineTuneJobs by phase', labelNames: ['phase'], ...reg }),
    predictionMessages: new p.Counter({ name: 'ablate_prediction_messages_total', help: 'Prediction-stream messages handled, by kind (progress, predictions, done, invalid, duplicate, foreign)', labelNames: ['kind'], ...reg }),
    informerRestarts: new p.Counter({ name: 'ablate_informer_restarts_total', help: 'Informer restarts after an error or a silent watch', labelNames: ['informer', 'reason'], ...reg }),
    isLeader: new p.Gauge({ name: 'ablate_leader', help: '1 while this replica leads', ...reg }),
  };
}

export interface Probes {
  healthy: () => boolean;
  ready: () => boolean;
}

/** Starts one HTTP server; resolves with it once listening (port 0: see server.address()). */
export function serve(addr: { host: string; port: number }, routes: { metrics?: Registry; probes?: Probes }): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (routes.metrics && path === '/metrics') {
      routes.metrics.metrics().then(
        (body) => {
          res.writeHead(200, { 'content-type': routes.metrics!.contentType });
          res.end(body);
        },
        (err: unknown) => {
          res.writeHead(500);
          res.end(String(err));
        },
      );
      return;
    }
    if (routes.probes && (path === '/healthz' || path === '/readyz')) {
      const ok = path === '/healthz' ? routes.probes.healthy() : routes.probes.ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(ok ? 'ok\n' : 'not ready\n');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found\n');
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(addr.port, addr.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
