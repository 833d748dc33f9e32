export type { CliIo, OpenDatastore } from './context';
export { EXIT_ERROR, EXIT_OK, EXIT_USAGE, type RunOptions, run } from './main';
