// The restricted pod posture (Pod Security Standards "restricted", plus a read-only root) asserted
// on any pod spec: the chart's controller and NATS, and the Jobs the controller builds.
import assert from 'node:assert/strict';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: unknown;
  [key: string]: unknown;
}

interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  seccompProfile?: { type: string };
}

export interface Container {
  name: string;
  securityContext?: SecurityContext;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean }>;
  env?: unknown[];
  args?: unknown[];
  [key: string]: unknown;
}

export interface PodSpec {
  securityContext?: SecurityContext;
  containers: Container[];
  initContainers?: Container[];
  volumes?: Array<{ name: string; [source: string]: unknown }>;
  automountServiceAccountToken?: boolean;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  [key: string]: unknown;
}

/** Volume sources a container may write to: scratch space and claimed storage, nothing of the node's. */
const WRITABLE_SOURCES = new Set(['emptyDir', 'persistentVolumeClaim', 'ephemeral']);

/** `claimTemplates`: volume names a StatefulSet's volumeClaimTemplates provide (claimed storage). */
export function assertRestrictedPod(pod: PodSpec, where: string, claimTemplates: string[] = []): void {
  assert.ok(!pod.hostNetwork && !pod.hostPID && !pod.hostIPC, `${where}: shares a host namespace`);
  const volumes = new Map((pod.volumes ?? []).map((v) => [v.name, v]));
  for (const v of pod.volumes ?? []) assert.ok(!('hostPath' in v), `${where}: volume ${v.name} is a hostPath`);
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) {
    const sc = c.securityContext ?? {};
    const at = `${where}, container ${c.name}`;
    assert.equal(sc.runAsNonRoot ?? pod.securityContext?.runAsNonRoot, true, `${at}: runAsNonRoot`);
    assert.notEqual(sc.runAsUser ?? pod.securityContext?.runAsUser, 0, `${at}: runs as uid 0`);
    assert.equal(sc.allowPrivilegeEscalation, false, `${at}: allowPrivilegeEscalation`);
    assert.notEqual(sc.privileged, true, `${at}: privileged`);
    assert.equal(sc.readOnlyRootFilesystem, true, `${at}: readOnlyRootFilesystem`);
    assert.ok(sc.capabilities?.drop?.includes('ALL'), `${at}: capabilities not dropped: ${JSON.stringify(sc.capabilities)}`);
    assert.deepEqual(sc.capabilities?.add ?? [], [], `${at}: adds capabilities`);
    assert.equal((sc.seccompProfile ?? pod.securityContext?.seccompProfile)?.type, 'RuntimeDefault', `${at}: seccompProfile`);
    for (const m of c.volumeMounts ?? []) {
      if (m.readOnly === true) continue;
      if (claimTemplates.includes(m.name)) continue;
      const v = volumes.get(m.name);
      assert.ok(v, `${at}: mount ${m.mountPath} names no volume ${m.name}`);
      const source = Object.keys(v).find((k) => k !== 'name');
      // A writable mount is fine on scratch/claimed storage; config from ConfigMaps/Secrets is read-only anyway.
      assert.ok(
        source !== undefined && (WRITABLE_SOURCES.has(source) || source === 'configMap' || source === 'secret' || source === 'projected' || source === 'downwardAPI'),
        `${at}: writable mount ${m.mountPath} on a ${source} volume`,
      );
    }
  }
}
