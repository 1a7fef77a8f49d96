// kubectl's typed commands (`kubectl create namespace`, `kubectl create secret`, `kubectl create
// configmap`) send protobuf bodies (`application/vnd.kubernetes.protobuf`: the `k8s\0` magic and a
// runtime.Unknown envelope) and do not fall back to JSON on a 415. This decodes exactly those
// three kinds (field numbers from k8s.io/api generated.proto) into their JSON form; any other
// protobuf body is refused with a message that says to use `kubectl apply -f`.
import { UnsupportedMediaTypeError } from './errors.js';

type Field = { no: number; wire: number; value: bigint | Buffer };

function readVarint(b: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const byte = b[pos++];
    if (byte === undefined) throw new Error('truncated varint');
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
}

function fields(b: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < b.length) {
    const [tag, p1] = readVarint(b, pos);
    pos = p1;
    const no = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (wire === 0) {
      const [v, p2] = readVarint(b, pos);
      out.push({ no, wire, value: v });
      pos = p2;
    } else if (wire === 2) {
      const [len, p2] = readVarint(b, pos);
      const end = p2 + Number(len);
      out.push({ no, wire, value: b.subarray(p2, end) });
      pos = end;
    } else if (wire === 1) {
      out.push({ no, wire, value: b.subarray(pos, pos + 8) });
      pos += 8;
    } else if (wire === 5) {
      out.push({ no, wire, value: b.subarray(pos, pos + 4) });
      pos += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const str = (f: Field): string => (f.value as Buffer).toString('utf8');
const bytes = (f: Field): Buffer => f.value as Buffer;

function mapEntry(f: Field, asBytes = false): [string, string] {
  let k = '';
  let v = '';
  for (const e of fields(bytes(f))) {
    if (e.no === 1) k = str(e);
    if (e.no === 2) v = asBytes ? bytes(e).toString('base64') : str(e);
  }
  return [k, v];
}

function objectMeta(b: Buffer): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  const finalizers: string[] = [];
  for (const f of fields(b)) {
    if (f.no === 1) m['name'] = str(f);
    else if (f.no === 2) m['generateName'] = str(f);
    else if (f.no === 3) m['namespace'] = str(f);
    else if (f.no === 6) m['resourceVersion'] = str(f);
    else if (f.no === 11) labels[mapEntry(f)[0]] = mapEntry(f)[1];
    else if (f.no === 12) annotations[mapEntry(f)[0]] = mapEntry(f)[1];
    else if (f.no === 14) finalizers.push(str(f));
  }
  if (Object.keys(labels).length) m['labels'] = labels;
  if (Object.keys(annotations).length) m['annotations'] = annotations;
  if (finalizers.length) m['finalizers'] = finalizers;
  return m;
}

/** Decodes a `k8s\0`-framed protobuf body of a Namespace, Secret or ConfigMap into JSON. */
export function decodeProtobufBody(body: Buffer, contentType: string): Record<string, unknown> {
  if (body.subarray(0, 4).toString('latin1') !== 'k8s\0') throw new UnsupportedMediaTypeError(contentType);
  let apiVersion = '';
  let kind = '';
  let raw: Buffer = Buffer.alloc(0);
  for (const f of fields(body.subarray(4))) {
    if (f.no === 1) {
      for (const t of fields(bytes(f))) {
        if (t.no === 1) apiVersion = str(t);
        if (t.no === 2) kind = str(t);
      }
    } else if (f.no === 2) raw = bytes(f);
  }
  const obj: Record<string, unknown> = { apiVersion, kind };
  const data: Record<string, string> = {};
  const binary: Record<string, string> = {};
  const key = `${apiVersion}/${kind}`;
  if (key !== 'v1/Namespace' && key !== 'v1/Secret' && key !== 'v1/ConfigMap') {
    throw new UnsupportedMediaTypeError(`${contentType} (${kind}: the dev-cluster decodes protobuf only for Namespace, Secret and ConfigMap; use \`kubectl apply -f\`)`);
  }
  for (const f of fields(raw)) {
    if (f.no === 1) obj['metadata'] = objectMeta(bytes(f));
    else if (kind === 'Secret' && f.no === 2) data[mapEntry(f, true)[0]] = mapEntry(f, true)[1];
    else if (kind === 'Secret' && f.no === 3) obj['type'] = str(f);
    else if (kind === 'Secret' && f.no === 5) obj['immutable'] = f.value === 1n;
    else if (kind === 'ConfigMap' && f.no === 2) data[mapEntry(f)[0]] = mapEntry(f)[1];
    else if (kind === 'ConfigMap' && f.no === 3) binary[mapEntry(f, true)[0]] = mapEntry(f, true)[1];
  }
  if (Object.keys(data).length) obj['data'] = data;
  if (Object.keys(binary).length) obj['binaryData'] = binary;
  return obj;
}
