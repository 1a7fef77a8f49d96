// DESIGN.md "Runtimes": which transport a local run uses. In order: `--nats URL` or NATS_URL when
// given (unreachable is an error, not a silent fallback: the user asked for that server); else a
// nats-server on PATH started on a free port with a temporary store; else the in-process transport.
import { logger } from '../common/mod.js';
import { InProcessTransport } from './in-process-transport.js';
import { findOnPath, startNatsServer } from './nats-server.js';
import { NatsTransport, type NatsTransportOptions } from './nats-transport.js';
import type { Transport } from './transport.js';

export interface ResolveTransportOptions {
  /** `--nats URL`; wins over `env.NATS_URL`. */
  natsUrl?: string;
  /** Looked at for NATS_URL and PATH. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Skip NATS altogether (tests, `--in-process`). @default false */
  inProcess?: boolean;
  /** Passed to NatsTransport.create. @default name 'ablate' */
  nats?: Partial<Omit<NatsTransportOptions, 'servers'>>;
}

export type TransportRoute = 'nats-url' | 'started-nats-server' | 'in-process';

export interface ResolvedTransport {
  transport: Transport;
  route: TransportRoute;
  /** The NATS server URL for the 'nats-url' and 'started-nats-server' routes (hand it to trainers). */
  natsUrl?: string;
  /** One line for the user: what was picked and why. */
  description: string;
  /** Closes the transport, and the started server if there is one; idempotent. */
  close(): Promise<void>;
}

/** Picks and opens the transport for a local run, logging the choice once. */
export async function resolveTransport(opts: ResolveTransportOptions = {}): Promise<ResolvedTransport> {
  const env = opts.env ?? process.env;
  const natsOpts = { name: 'ablate', ...opts.nats };
  const log = logger();
  let resolved: ResolvedTransport;

  const url = opts.natsUrl ?? (env['NATS_URL'] || undefined);
  const serverPath = opts.inProcess || url !== undefined ? undefined : findOnPath('nats-server', env);
  if (opts.inProcess) {
    const transport = new InProcessTransport();
    resolved = { transport, route: 'in-process', description: 'in-process transport (requested)', close: () => transport.close() };
  } else if (url !== undefined) {
    const transport = await NatsTransport.create({ ...natsOpts, servers: url });
    const why = opts.natsUrl !== undefined ? '--nats' : 'NATS_URL';
    resolved = { transport, route: 'nats-url', natsUrl: url, description: `NATS at ${url} (from ${why})`, close: () => transport.close() };
  } else if (serverPath !== undefined) {
    const server = await startNatsServer({ executable: serverPath, env });
    let transport: NatsTransport;
    try {
      transport = await NatsTransport.create({ ...natsOpts, servers: server.url });
    } catch (err) {
      await server.close();
      throw err;
    }
    let closing: Promise<void> | undefined;
    resolved = {
      transport,
      route: 'started-nats-server',
      natsUrl: server.url,
      description: `NATS started from ${serverPath} at ${server.url} (store ${server.storeDir}, removed on exit)`,
      close: () => (closing ??= transport.close().finally(() => server.close())),
    };
  } else {
    const transport = new InProcessTransport();
    resolved = {
      transport,
      route: 'in-process',
      description: 'in-process transport (no --nats, no NATS_URL, no nats-server on PATH)',
      close: () => transport.close(),
    };
  }
  log.info({ transport: resolved.route }, `predictions transport: ${resolved.description}`);
  return resolved;
}
