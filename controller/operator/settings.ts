// Controller settings: user options (the `ablate controller` flags) → defaults → compiled.
import { resolve } from 'node:path';
import { DEFAULT_STREAM_NAME, DEFAULT_SUBJECT_PREFIX } from '../../protocol/mod.js';
import { OperatorConfigError } from './errors.js';
import { DEFAULT_QUEUE_WORKERS } from './queue.js';

/** Image of trainer pods when the FineTuneJob's template names none. @default 'ghcr.io/ablate-dev/ablate-trainer:latest' */
export const DEFAULT_TRAINER_IMAGE = 'ghcr.io/ablate-dev/ablate-trainer:latest';
/** @default ':8080' */
export const DEFAULT_METRICS_ADDR = ':8080';
/** @default ':8081' */
export const DEFAULT_PROBE_ADDR = ':8081';
/** @default 'ablate-controller' */
export const DEFAULT_LEASE_NAME = 'ablate-controller';
/** Key of the NATS URL (credentials included) in the `--nats-creds-secret` Secret. @default 'url' */
export const NATS_SECRET_KEY = 'url';
/**
 * How long a Job may be Complete before its verified `done` must have reached the collector,
 * counted from the later of its completion and the collector's start, in milliseconds.
 * @default 120000
 */
export const DEFAULT_PREDICTIONS_TIMEOUT_MS = 120_000;
/** Safety-net requeue of every FineTuneJob, for anything a watch missed, in milliseconds. @default 60000 */
export const DEFAULT_RESYNC_MS = 60_000;
/**
 * How long the NATS server keeps a collector's durable consumer that nobody pulls from, in
 * milliseconds: the durable of a controller that was killed instead of drained goes after this
 * (a drained one deletes its own). A running controller pulls continuously, so it never reaches
 * it; a controller process that restarts uses a fresh durable and replays the stream anyway.
 * @default 3600000 (1 h)
 */
export const DEFAULT_CONSUMER_INACTIVE_THRESHOLD_MS = 3_600_000;

export interface OperatorOptions {
  /** Namespaces to watch; empty or absent: all namespaces. */
  namespaces?: string[];
  /** NATS URL the controller itself consumes from; absent: no predictions (Degraded). */
  natsUrl?: string;
  /** Secret (in each FineTuneJob's namespace) whose `url` key trainer pods use as their NATS URL. @default none: pods get `natsUrl` */
  natsCredsSecret?: string;
  /** @default DEFAULT_STREAM_NAME ('ABLATE') */
  stream?: string;
  /** @default DEFAULT_SUBJECT_PREFIX ('ablate') */
  prefix?: string;
  /** @default DEFAULT_TRAINER_IMAGE */
  trainerImage?: string;
  /** Relative model/data URIs resolve against this folder (the controller's and the pods' view). @default the working directory */
  baseDir?: string;
  /** @default DEFAULT_METRICS_ADDR; '0' disables */
  metricsAddr?: string;
  /** @default DEFAULT_PROBE_ADDR; '0' disables */
  probeAddr?: string;
  /** @default false */
  leaderElect?: boolean;
  /** @default POD_NAMESPACE, else 'default' */
  leaseNamespace?: string;
  /** @default DEFAULT_LEASE_NAME */
  leaseName?: string;
  /** Lease holder identity. @default POD_NAME, else `<hostname>-<pid>` */
  identity?: string;
  /** @default DEFAULT_PREDICTIONS_TIMEOUT_MS */
  predictionsTimeoutMs?: number;
  /** @default DEFAULT_RESYNC_MS */
  resyncMs?: number;
  /** FineTuneJobs reconciled at once (each by one worker at a time). @default DEFAULT_QUEUE_WORKERS */
  queueWorkers?: number;
  /** @default DEFAULT_CONSUMER_INACTIVE_THRESHOLD_MS */
  consumerInactiveThresholdMs?: number;
}

export interface CompiledSettings {
  namespaces: string[];
  natsUrl: string | undefined;
  natsCredsSecret: string | undefined;
  stream: string;
  prefix: string;
  trainerImage: string;
  baseDir: string;
  metrics: { host: string; port: number } | undefined;
  probe: { host: string; port: number } | undefined;
  leaderElect: boolean;
  leaseNamespace: string;
  leaseName: string;
  identity: string;
  predictionsTimeoutMs: number;
  resyncMs: number;
  queueWorkers: number;
  consumerInactiveThresholdMs: number;
}

function configError(field: string, value: unknown, reason: string): never {
  throw new OperatorConfigError(field, value, reason);
}

/** `:8080`, `0.0.0.0:8080`, `127.0.0.1:0`; `0` or '' disables. */
export function parseAddr(field: string, addr: string): { host: string; port: number } | undefined {
  if (addr === '0' || addr === '') return undefined;
  const m = /^(.*):(\d{1,5})$/.exec(addr);
  const port = Number(m?.[2]);
  if (!m || port > 65_535) throw new OperatorConfigError(field, addr, 'expected [HOST]:PORT, e.g. :8080');
  return { host: m[1] === '' ? '0.0.0.0' : (m[1] as string), port };
}

export function compileSettings(o: OperatorOptions, env: NodeJS.ProcessEnv = process.env): CompiledSettings {
  const namespaces = (o.namespaces ?? []).map((n) => n.trim()).filter((n) => n !== '');
  for (const n of namespaces) if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n)) throw new OperatorConfigError('namespaces', n, 'not a namespace name');
  const positive = (field: string, v: number | undefined, d: number): number => {
    if (v === undefined) return d;
    if (!(v > 0)) throw new OperatorConfigError(field, v, 'must be > 0');
    return v;
  };
  return {
    namespaces,
    natsUrl: o.natsUrl,
    natsCredsSecret: o.natsCredsSecret,
    stream: o.stream ?? DEFAULT_STREAM_NAME,
    prefix: o.prefix ?? DEFAULT_SUBJECT_PREFIX,
    trainerImage: o.trainerImage ?? DEFAULT_TRAINER_IMAGE,
    baseDir: resolve(o.baseDir ?? '.'),
    metrics: parseAddr('metrics-addr', o.metricsAddr ?? DEFAULT_METRICS_ADDR),
    probe: parseAddr('probe-addr', o.probeAddr ?? DEFAULT_PROBE_ADDR),
    leaderElect: o.leaderElect ?? false,
    leaseNamespace: o.leaseNamespace ?? env['POD_NAMESPACE'] ?? 'default',
    leaseName: o.leaseName ?? DEFAULT_LEASE_NAME,
    identity: o.identity ?? env['POD_NAME'] ?? `${env['HOSTNAME'] ?? 'ablate-controller'}-${process.pid}`,
    predictionsTimeoutMs: positive('predictionsTimeoutMs', o.predictionsTimeoutMs, DEFAULT_PREDICTIONS_TIMEOUT_MS),
    resyncMs: positive('resyncMs', o.resyncMs, DEFAULT_RESYNC_MS),
    consumerInactiveThresholdMs: positive('consumerInactiveThresholdMs', o.consumerInactiveThresholdMs, DEFAULT_CONSUMER_INACTIVE_THRESHOLD_MS),
    queueWorkers: o.queueWorkers === undefined ? DEFAULT_QUEUE_WORKERS : Number.isInteger(o.queueWorkers) && o.queueWorkers >= 1 ? o.queueWorkers : configError('queueWorkers', o.queueWorkers, 'must be an integer ≥ 1'),
  };
}
