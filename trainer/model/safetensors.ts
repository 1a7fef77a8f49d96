// The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian header
// length, a JSON header mapping tensor names to {dtype, shape, data_offsets}, then the raw
// little-endian bytes. Floats of any supported width are widened to float32 on read, because
// TF.js trains in float32; integer buffers (e.g. `position_ids`) are listed but not loaded.
import { open, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SafetensorsError } from './errors.js';

/** Float dtypes we read (converted to float32). */
export const FLOAT_DTYPES = ['F32', 'F16', 'BF16', 'F64'] as const;
/** Integer/bool dtypes we skip on read (HF buffers such as `position_ids`, never parameters). */
export const SKIPPED_DTYPES = ['I64', 'I32', 'I16', 'I8', 'U8', 'U16', 'U32', 'U64', 'BOOL'] as const;
/** Dtypes `writeSafetensors` can store. */
export type WriteDtype = 'F32' | 'F16' | 'BF16';

const BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2, F64: 8, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, U16: 2, U32: 4, U64: 8, BOOL: 1 };

/** Header length sanity bound: a header is names and offsets, never near this size. */
const MAX_HEADER_BYTES = 100 * 1024 * 1024;

export interface FloatTensor {
  shape: number[];
  /** float32 values, widened from the stored dtype. */
  data: Float32Array;
  /** The dtype stored in the file. */
  dtype: string;
}

export interface SafetensorsContents {
  /** Float tensors in header order. */
  tensors: Map<string, FloatTensor>;
  /** Integer/bool tensors that were present but not loaded, with their dtype. */
  skipped: Map<string, string>;
  metadata: Record<string, string>;
}

interface HeaderEntry {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

function parseHeader(file: string, json: unknown, dataBytes: number): { entries: HeaderEntry[]; metadata: Record<string, string> } {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new SafetensorsError(`${file}: header is not a JSON object`, { file });
  const entries: HeaderEntry[] = [];
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (raw ?? {}) as Record<string, string>;
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof e !== 'object' || e === null || typeof e.dtype !== 'string' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets) || e.data_offsets.length !== 2) {
      throw new SafetensorsError(`${file}: tensor '${name}': header entry needs dtype, shape and data_offsets [begin, end]`, { file, tensor: name });
    }
    const shape = e.shape as unknown[];
    if (!shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) throw new SafetensorsError(`${file}: tensor '${name}': bad shape ${JSON.stringify(shape)}`, { file, tensor: name });
    const [begin, end] = e.data_offsets as unknown[];
    if (!Number.isInteger(begin) || !Number.isInteger(end) || (begin as number) < 0 || (end as number) < (begin as number) || (end as number) > dataBytes) {
      throw new SafetensorsError(`${file}: tensor '${name}': data_offsets ${JSON.stringify(e.data_offsets)} out of range (data section is ${dataBytes} bytes)`, { file, tensor: name });
    }
    const width = BYTES[e.dtype];
    if (width === undefined) throw new SafetensorsError(`${file}: tensor '${name}': unsupported dtype '${e.dtype}' (supported: ${FLOAT_DTYPES.join(', ')}; skipped: ${SKIPPED_DTYPES.join(', ')})`, { file, tensor: name });
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if ((end as number) - (begin as number) !== count * width) {
      throw new SafetensorsError(`${file}: tensor '${name}': ${(end as number) - (begin as number)} bytes for shape ${JSON.stringify(shape)} of ${e.dtype} (expected ${count * width})`, { file, tensor: name });
    }
    entries.push({ name, dtype: e.dtype, shape: shape as number[], begin: begin as number, end: end as number });
  }
  return { entries, metadata };
}

function toFloat32(bytes: Buffer, dtype: string): Float32Array {
  const n = bytes.length / BYTES[dtype]!;
  const out = new Float32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32':
      if (LITTLE_ENDIAN) out.set(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length)));
      else for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
      break;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = view.getFloat64(i * 8, true);
      break;
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const u32 = new Uint32Array(out.buffer);
      for (let i = 0; i < n; i++) u32[i] = view.getUint16(i * 2, true) << 16;
      break;
    }
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(view.getUint16(i * 2, true));
      break;
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

function floatToHalf(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    // Subnormal half: shift the implicit-1 mantissa, round half to even.
    const m = mant | 0x800000;
    const shift = 14 - e;
    let half = m >>> shift;
    const rem = m & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && (half & 1))) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1))) half++; // a carry into the exponent is still correct
  return sign | half;
}

function floatToBf16(x: number): number {
  f32[0] = x;
  const b = u32[0]!;
  if ((b & 0x7f800000) === 0x7f800000 && (b & 0x7fffff)) return (b >>> 16) | 0x40; // keep NaN a NaN
  return (b + 0x7fff + ((b >>> 16) & 1)) >>> 16; // round half to even
}

/** Reads one safetensors file; float tensors come back as float32. */
export async function readSafetensors(file: string): Promise<SafetensorsContents> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (cause) {
    throw new SafetensorsError(`${file}: cannot open`, { file, cause });
  }
  try {
    const { size } = await fh.stat();
    const lenBuf = Buffer.alloc(8);
    if (size < 8 || (await fh.read(lenBuf, 0, 8, 0)).bytesRead !== 8) throw new SafetensorsError(`${file}: too short for a safetensors header (${size} bytes)`, { file });
    const headerLen = Number(lenBuf.readBigUInt64LE(0));
    if (headerLen > MAX_HEADER_BYTES || 8 + headerLen > size) throw new SafetensorsError(`${file}: header length ${headerLen} does not fit the file (${size} bytes)`, { file });
    const headerBuf = Buffer.alloc(headerLen);
    await fh.read(headerBuf, 0, headerLen, 8);
    let json: unknown;
    try {
      json = JSON.parse(headerBuf.toString('utf8'));
    } catch (cause) {
      throw new SafetensorsError(`${file}: header is not valid JSON`, { file, cause });
    }
    const dataStart = 8 + headerLen;
    const { entries, metadata } = parseHeader(file, json, size - dataStart);
    const tensors = new Map<string, FloatTensor>();
    const skipped = new Map<string, string>();
    for (const e of entries) {
      if (!(FLOAT_DTYPES as readonly string[]).includes(e.dtype)) {
        skipped.set(e.name, e.dtype);
        continue;
      }
      const bytes = Buffer.alloc(e.end - e.begin);
      await fh.read(bytes, 0, bytes.length, dataStart + e.begin);
      tensors.set(e.name, { shape: e.shape, data: toFloat32(bytes, e.dtype), dtype: e.dtype });
    }
    return { tensors, skipped, metadata };
  } finally {
    await fh.close();
  }
}

/** The file names of a checkpoint directory: one `model.safetensors`, or the shards of an index. */
export async function checkpointFiles(dir: string): Promise<string[] | undefined> {
  const single = join(dir, 'model.safetensors');
  if (existsSync(single)) return [single];
  const indexPath = join(dir, 'model.safetensors.index.json');
  if (!existsSync(indexPath)) return undefined;
  let index: { weight_map?: Record<string, string> };
  try {
    index = JSON.parse(await readFile(indexPath, 'utf8')) as typeof index;
  } catch (cause) {
    throw new SafetensorsError(`${indexPath}: not a valid safetensors index`, { file: indexPath, cause });
  }
  if (typeof index.weight_map !== 'object' || index.weight_map === null) throw new SafetensorsError(`${indexPath}: no 'weight_map' object`, { file: indexPath });
  const shards = [...new Set(Object.values(index.weight_map))];
  for (const s of shards) {
    if (typeof s !== 'string' || s.includes('/') || s.includes('\\')) throw new SafetensorsError(`${indexPath}: shard name ${JSON.stringify(s)} is not a plain file name`, { file: indexPath });
  }
  return shards.map((s) => join(dir, s));
}

/** Reads every tensor of a checkpoint directory (single file or sharded), in file order. */
export async function readCheckpoint(dir: string): Promise<SafetensorsContents> {
  const files = await checkpointFiles(dir);
  if (files === undefined) throw new SafetensorsError(`${dir}: no model.safetensors or model.safetensors.index.json`, { file: dir });
  const all: SafetensorsContents = { tensors: new Map(), skipped: new Map(), metadata: {} };
  for (const f of files) {
    const c = await readSafetensors(f);
    for (const [k, v] of c.tensors) {
      if (all.tensors.has(k)) throw new SafetensorsError(`${f}: tensor '${k}' appears in more than one shard`, { file: f, tensor: k });
      all.tensors.set(k, v);
    }
    for (const [k, v] of c.skipped) all.skipped.set(k, v);
    Object.assign(all.metadata, c.metadata);
  }
  return all;
}

export interface TensorToWrite {
  name: string;
  shape: number[];
  data: Float32Array;
}

/**
 * Writes tensors in the given order as one safetensors file (`__metadata__: {format: "pt"}`, the
 * header padded with spaces to a multiple of 8 bytes, as the reference writer does).
 */
export async function writeSafetensors(file: string, tensors: TensorToWrite[], opts: { dtype?: WriteDtype; metadata?: Record<string, string> } = {}): Promise<void> {
  const dtype = opts.dtype ?? 'F32';
  const width = BYTES[dtype]!;
  const header: Record<string, unknown> = { __metadata__: { format: 'pt', ...opts.metadata } };
  let offset = 0;
  for (const t of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new SafetensorsError(`${file}: tensor '${t.name}': ${t.data.length} values for shape ${JSON.stringify(t.shape)}`, { file, tensor: t.name });
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + count * width] };
    offset += count * width;
  }
  let headerText = JSON.stringify(header);
  headerText += ' '.repeat((8 - (Buffer.byteLength(headerText) % 8)) % 8);
  const headerBuf = Buffer.from(headerText, 'utf8');
  const lenBuf = Buffer.alloc(8);
  lenBuf.writeBigUInt64LE(BigInt(headerBuf.length));
  const fh = await open(file, 'w');
  try {
    await fh.write(lenBuf);
    await fh.write(headerBuf);
    for (const t of tensors) {
      if (dtype === 'F32' && LITTLE_ENDIAN) {
        await fh.write(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
        continue;
      }
      const buf = Buffer.alloc(t.data.length * width);
      if (dtype === 'F32') for (let i = 0; i < t.data.length; i++) buf.writeFloatLE(t.data[i]!, i * 4);
      else if (dtype === 'F16') for (let i = 0; i < t.data.length; i++) buf.writeUInt16LE(floatToHalf(t.data[i]!), i * 2);
      else for (let i = 0; i < t.data.length; i++) buf.writeUInt16LE(floatToBf16(t.data[i]!), i * 2);
      await fh.write(buf);
    }
  } finally {
    await fh.close();
  }
}
