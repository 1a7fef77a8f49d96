// Shared plumbing for every part: logging and the error base class.
export { configureLogger, logger, LOG_LEVELS, DEFAULT_LOG_LEVEL, type Logger } from './log.js';
export { AblateError, FileLineError, UsageError, describeError, type AblateErrorOptions } from './errors.js';
export { ablateCommand } from './spawn.js';
