// A decoder for SentencePiece's `ModelProto` (sentencepiece_model.proto, proto2) straight from the
// protobuf wire format, so loading a DeBERTa-v3 `spm.model` needs no protobuf dependency. Only the
// fields the encoder uses are kept; every other field is skipped by wire type, as protobuf readers
// do, so models written by newer SentencePiece versions still load.
import { SentencePieceModelError } from './errors.js';

/** `ModelProto.SentencePiece.Type`, with the numbers the proto assigns. */
export const PieceType = {
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;
export type PieceType = (typeof PieceType)[keyof typeof PieceType];

/** `TrainerSpec.ModelType`. */
export const ModelType = { UNIGRAM: 1, BPE: 2, WORD: 3, CHAR: 4 } as const;

export interface SentencePiece {
  piece: string;
  score: number;
  type: PieceType;
}

/** The `TrainerSpec` fields that shape encoding; defaults are the proto's. */
export interface TrainerSpec {
  /** @default 1 (UNIGRAM) */
  modelType: number;
  /** @default 8000 */
  vocabSize: number;
  /** @default 0 */
  unkId: number;
  /** @default 1 */
  bosId: number;
  /** @default 2 */
  eosId: number;
  /** @default -1 (no padding piece) */
  padId: number;
  /** @default "<unk>" */
  unkPiece: string;
  /** @default "<s>" */
  bosPiece: string;
  /** @default "</s>" */
  eosPiece: string;
  /** @default "<pad>" */
  padPiece: string;
  /** @default false */
  byteFallback: boolean;
  /** @default false */
  treatWhitespaceAsSuffix: boolean;
  /** @default [] */
  userDefinedSymbols: string[];
  /** @default [] */
  controlSymbols: string[];
}

export interface NormalizerSpec {
  /** @default "" */
  name: string;
  /** The compiled normalization rules (a Darts double-array plus replacement strings); empty = identity. */
  precompiledCharsmap: Uint8Array;
  /** @default true */
  addDummyPrefix: boolean;
  /** @default true */
  removeExtraWhitespaces: boolean;
  /** @default true */
  escapeWhitespaces: boolean;
}

export interface ModelProto {
  pieces: SentencePiece[];
  trainerSpec: TrainerSpec;
  normalizerSpec: NormalizerSpec;
}

export function defaultTrainerSpec(): TrainerSpec {
  return {
    modelType: ModelType.UNIGRAM,
    vocabSize: 8000,
    unkId: 0,
    bosId: 1,
    eosId: 2,
    padId: -1,
    unkPiece: '<unk>',
    bosPiece: '<s>',
    eosPiece: '</s>',
    padPiece: '<pad>',
    byteFallback: false,
    treatWhitespaceAsSuffix: false,
    userDefinedSymbols: [],
    controlSymbols: [],
  };
}

export function defaultNormalizerSpec(): NormalizerSpec {
  return {
    name: '',
    precompiledCharsmap: new Uint8Array(0),
    addDummyPrefix: true,
    removeExtraWhitespaces: true,
    escapeWhitespaces: true,
  };
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** A cursor over one length-delimited region; offsets stay absolute so errors point into the file. */
class WireReader {
  pos: number;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly view: DataView,
    private readonly source: string,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  fail(problem: string, at = this.pos): never {
    throw new SentencePieceModelError(this.source, at, problem);
  }

  /** Reads a varint and keeps its low 32 bits, unsigned (int32 fields sign-extend to 10 bytes). */
  varint(): number {
    const start = this.pos;
    let result = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) this.fail('varint runs past the end of its message', start);
      const b = this.bytes[this.pos++]!;
      if (i < 5) result += (b & 0x7f) * 2 ** (7 * i);
      if ((b & 0x80) === 0) return result % 2 ** 32;
    }
    return this.fail('varint longer than 10 bytes', start);
  }

  int32(): number {
    return this.varint() | 0;
  }

  bool(): boolean {
    return this.varint() !== 0;
  }

  float(): number {
    if (this.pos + 4 > this.end) this.fail('fixed32 runs past the end of its message');
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** The extent of a length-delimited field: [start, end). */
  region(): [number, number] {
    const at = this.pos;
    const len = this.varint();
    if (this.pos + len > this.end) this.fail(`length-delimited field of ${len} bytes runs past the end of its message`, at);
    const start = this.pos;
    this.pos += len;
    return [start, start + len];
  }

  string(): string {
    const [start, end] = this.region();
    try {
      return utf8.decode(this.bytes.subarray(start, end));
    } catch (err) {
      throw new SentencePieceModelError(this.source, start, 'string field is not valid UTF-8', { cause: err });
    }
  }

  bytesField(): Uint8Array {
    const [start, end] = this.region();
    return this.bytes.subarray(start, end);
  }

  sub(): WireReader {
    const [start, end] = this.region();
    return new WireReader(this.bytes, this.view, this.source, start, end);
  }

  /** Reads a tag; returns [field number, wire type]. */
  tag(): [number, number] {
    const at = this.pos;
    const tag = this.varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (field === 0) this.fail('field number 0 (not a protobuf message)', at);
    return [field, wire];
  }

  skip(wire: number, at: number): void {
    switch (wire) {
      case WIRE_VARINT:
        this.varint();
        return;
      case WIRE_FIXED64:
        if (this.pos + 8 > this.end) this.fail('fixed64 runs past the end of its message');
        this.pos += 8;
        return;
      case WIRE_LEN:
        this.region();
        return;
      case WIRE_FIXED32:
        if (this.pos + 4 > this.end) this.fail('fixed32 runs past the end of its message');
        this.pos += 4;
        return;
      default:
        this.fail(`unsupported wire type ${wire}`, at);
    }
  }

  /** Calls `field` for each field; `field` returns false for fields it does not read (then skipped). */
  each(field: (no: number, wire: number, at: number) => boolean): void {
    while (this.pos < this.end) {
      const at = this.pos;
      const [no, wire] = this.tag();
      if (!field(no, wire, at)) this.skip(wire, at);
    }
  }

  expect(wire: number, want: number, no: number, at: number): void {
    if (wire !== want) this.fail(`field ${no} has wire type ${wire}, expected ${want}`, at);
  }
}

function readPiece(r: WireReader): SentencePiece {
  const p: SentencePiece = { piece: '', score: 0, type: PieceType.NORMAL };
  r.each((no, wire, at) => {
    if (no === 1) {
      r.expect(wire, WIRE_LEN, no, at);
      p.piece = r.string();
    } else if (no === 2) {
      r.expect(wire, WIRE_FIXED32, no, at);
      p.score = r.float();
    } else if (no === 3) {
      r.expect(wire, WIRE_VARINT, no, at);
      const t = r.int32();
      if (t < PieceType.NORMAL || t > PieceType.BYTE) r.fail(`piece type ${t} is not a SentencePiece.Type`, at);
      p.type = t as PieceType;
    } else return false;
    return true;
  });
  return p;
}

function readTrainerSpec(r: WireReader): TrainerSpec {
  const s = defaultTrainerSpec();
  const ints: Record<number, 'modelType' | 'vocabSize' | 'unkId' | 'bosId' | 'eosId' | 'padId'> = {
    3: 'modelType', 4: 'vocabSize', 40: 'unkId', 41: 'bosId', 42: 'eosId', 43: 'padId',
  };
  const strings: Record<number, 'unkPiece' | 'bosPiece' | 'eosPiece' | 'padPiece'> = {
    45: 'unkPiece', 46: 'bosPiece', 47: 'eosPiece', 48: 'padPiece',
  };
  r.each((no, wire, at) => {
    const intKey = ints[no];
    const strKey = strings[no];
    if (intKey !== undefined) {
      r.expect(wire, WIRE_VARINT, no, at);
      s[intKey] = r.int32();
    } else if (strKey !== undefined) {
      r.expect(wire, WIRE_LEN, no, at);
      s[strKey] = r.string();
    } else if (no === 35 || no === 24) {
      r.expect(wire, WIRE_VARINT, no, at);
      if (no === 35) s.byteFallback = r.bool();
      else s.treatWhitespaceAsSuffix = r.bool();
    } else if (no === 30 || no === 31) {
      r.expect(wire, WIRE_LEN, no, at);
      (no === 30 ? s.controlSymbols : s.userDefinedSymbols).push(r.string());
    } else return false;
    return true;
  });
  return s;
}

function readNormalizerSpec(r: WireReader): NormalizerSpec {
  const s = defaultNormalizerSpec();
  r.each((no, wire, at) => {
    if (no === 1) {
      r.expect(wire, WIRE_LEN, no, at);
      s.name = r.string();
    } else if (no === 2) {
      r.expect(wire, WIRE_LEN, no, at);
      s.precompiledCharsmap = r.bytesField();
    } else if (no >= 3 && no <= 5) {
      r.expect(wire, WIRE_VARINT, no, at);
      const v = r.bool();
      if (no === 3) s.addDummyPrefix = v;
      else if (no === 4) s.removeExtraWhitespaces = v;
      else s.escapeWhitespaces = v;
    } else return false;
    return true;
  });
  return s;
}

/**
 * Decodes a SentencePiece model file's bytes. `source` (the file path) names the file in errors,
 * which also give the byte offset where decoding failed.
 */
export function decodeModelProto(bytes: Uint8Array, source = 'spm.model'): ModelProto {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const r = new WireReader(bytes, view, source, 0, bytes.length);
  const model: ModelProto = { pieces: [], trainerSpec: defaultTrainerSpec(), normalizerSpec: defaultNormalizerSpec() };
  r.each((no, wire, at) => {
    if (no === 1) {
      r.expect(wire, WIRE_LEN, no, at);
      const piece = readPiece(r.sub());
      if (piece.piece === '') r.fail(`piece ${model.pieces.length} is empty`, at);
      model.pieces.push(piece);
    } else if (no === 2) {
      r.expect(wire, WIRE_LEN, no, at);
      model.trainerSpec = readTrainerSpec(r.sub());
    } else if (no === 3) {
      r.expect(wire, WIRE_LEN, no, at);
      model.normalizerSpec = readNormalizerSpec(r.sub());
    } else return false;
    return true;
  });
  if (model.pieces.length === 0) throw new SentencePieceModelError(source, -1, 'no pieces: not a SentencePiece model');
  return model;
}
