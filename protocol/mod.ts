// The trainer ↔ controller protocol: subjects, versioned message schemas, chunking and digests,
// the Transport interface with its NATS JetStream and in-process implementations, transport
// selection for local runs, and the trainer-side Publisher.
export {
  DEFAULT_SUBJECT_PREFIX,
  DEFAULT_STREAM_NAME,
  LOCAL_NAMESPACE,
  MESSAGE_KINDS,
  checkPrefix,
  jobFilter,
  parseSubject,
  runSubject,
  runSubjects,
  streamSubject,
  subjectMatches,
  type MessageKind,
  type ParsedSubject,
  type RunAddress,
  type RunSubjects,
} from './subjects.js';
export {
  DONE_STATUSES,
  PROB_SUM_TOLERANCE,
  PROGRESS_PHASES,
  PROTOCOL_VERSION,
  SUPPORTED_VERSIONS,
  checkProbabilities,
  decodeMessage,
  encodeMessage,
  float32FromLittleEndian,
  float32ToLittleEndian,
  validateDone,
  validateMessage,
  validatePredictions,
  validateProgress,
  type AnyMessage,
  type DoneMessage,
  type DoneStatus,
  type MessageByKind,
  type MessageHeader,
  type PredictionsMessage,
  type PredictionsMessageV1,
  type PredictionsMessageV2,
  type ProgressMessage,
  type ProtocolVersion,
  type ProgressPhase,
} from './messages.js';
export {
  DEFAULT_MAX_CHUNK_BYTES,
  NATS_DEFAULT_MAX_PAYLOAD,
  chunkMsgId,
  chunkPredictions,
  chunkPredictionsV1,
  doneMsgId,
  encodePredictions,
  predictionsSha256,
  predictionsSha256V2,
  predictionsSha256V2Encoded,
  toProbabilityMatrix,
  type ChunkOptions,
  type EncodedChunk,
  type EncodedPredictions,
  type ProbabilityMatrix,
} from './chunking.js';
export type { ConsumeOptions, Consumption, InboundMessage, MessageHandler, PublishOptions, PublishResult, Transport } from './transport.js';
export {
  DEFAULT_ACK_WAIT_SECONDS,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_DUPLICATE_WINDOW_SECONDS,
  DEFAULT_MAX_ACK_PENDING,
  DEFAULT_MAX_DELIVER,
  DEFAULT_PULL_BYTES,
  NatsTransport,
  type NatsCredentials,
  type NatsTransportOptions,
} from './nats-transport.js';
export { InProcessTransport, type InProcessTransportOptions } from './in-process-transport.js';
export { DEFAULT_NATS_START_TIMEOUT_MS, findOnPath, startNatsServer, type NatsServerHandle, type StartNatsServerOptions } from './nats-server.js';
export { resolveTransport, type ResolveTransportOptions, type ResolvedTransport, type TransportRoute } from './resolve.js';
export { Publisher, type DoneInput, type ProgressInput, type PublishedPredictions, type PublisherOptions } from './publisher.js';
export {
  ChunkingError,
  MessageValidationError,
  NatsConnectionError,
  NatsServerStartError,
  ProtocolError,
  PublishError,
  SubjectError,
  TransportClosedError,
} from './errors.js';
export { IpcTransport, relayIpc } from './ipc-transport.js';
export { decodeIds, encodeIds } from './ids.js';
