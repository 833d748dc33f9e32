// @margay/log: the structured logger margay's components share. Libraries take a Logger (and
// default to silentLogger); daemons make a jsonLogger on stderr.

export { type JsonLogger, jsonLogger, LOG_LEVELS, type LogLevel } from './json-logger';
export { type LogFields, type Logger, silentLogger } from './logger';
