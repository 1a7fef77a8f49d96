// API clients whose requests reuse connections. client-node 1.4.0 builds a new http(s).Agent for
// every request (KubeConfig.applySecurityAuthentication → createAgent), so each request opens a
// new TCP connection — and a new TLS handshake on a real cluster. At thousands of creates that
// is a large share of the controller's time (BENCHMARKS.md "Controller at scale").
//
// Here the client's own authentication still runs for every request (tokens, exec plugins and
// certificate files are read as before); only the agent it made is swapped for a keep-alive one
// with the same TLS options, shared while those options stay the same (a rotated client
// certificate gets a new agent). Proxy agents (cluster.proxyUrl) are left as the client made them.
import * as http from 'node:http';
import * as https from 'node:https';
import type * as k8s from '@kubernetes/client-node';
import { OperatorConfigError } from './errors.js';

/** Idle connections kept per host by the shared agent. @default 64 */
export const KEEP_ALIVE_FREE_SOCKETS = 64;

/** The TLS-relevant options of an agent, as a comparable string. */
function tlsKey(options: Record<string, unknown>): string {
  return JSON.stringify(['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'].map((f) => {
    const v = options[f];
    return Buffer.isBuffer(v) ? v.toString('base64') : Array.isArray(v) ? v.map((x) => (Buffer.isBuffer(x) ? x.toString('base64') : x)) : v;
  }));
}

/** Authentication that delegates to the KubeConfig, then reuses one keep-alive agent. */
export class KeepAliveAuth implements k8s.SecurityAuthentication {
  private agent: http.Agent | undefined;
  private key: string | undefined;

  constructor(private readonly kc: k8s.KubeConfig) {}

  getName(): string {
    return 'default';
  }

  async applySecurityAuthentication(context: k8s.RequestContext): Promise<void> {
    await this.kc.applySecurityAuthentication(context);
    const made = context.getAgent();
    // Only plain agents: a proxy agent (hpagent, socks) is another class and stays as made.
    if (!made || (made.constructor !== http.Agent && made.constructor !== https.Agent)) return;
    const options = (made as http.Agent & { options: Record<string, unknown> }).options;
    const key = `${made.constructor === https.Agent ? 'https' : 'http'} ${tlsKey(options)}`;
    if (!this.agent || this.key !== key) {
      const old = this.agent;
      const opts = { ...options, keepAlive: true, maxFreeSockets: KEEP_ALIVE_FREE_SOCKETS, scheduling: 'lifo' as const };
      this.agent = made.constructor === https.Agent ? new https.Agent(opts) : new http.Agent(opts);
      this.key = key;
      // The old agent's requests in flight finish; its idle connections are closed.
      if (old) setTimeout(() => old.destroy(), 60_000).unref();
    }
    context.setAgent(this.agent);
  }

  /** Closes the idle connections (those in use close when their requests end). */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
    this.key = undefined;
  }
}

/** `kc.makeApiClient(type)`, with requests going through `auth` (a shared KeepAliveAuth). */
export function keepAliveClient<A>(k: typeof k8s, kc: k8s.KubeConfig, auth: KeepAliveAuth, type: new (config: k8s.Configuration) => A): A {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new OperatorConfigError('kubeconfig', kc.getCurrentContext(), 'the current context names no cluster');
  return new type(k.createConfiguration({ baseServer: new k.ServerConfiguration(cluster.server, {}), authMethods: { default: auth } }));
}
