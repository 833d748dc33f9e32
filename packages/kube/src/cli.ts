#!/usr/bin/env node
// The margay-kube-controllers executable: SIGTERM and SIGINT stop it gracefully.

import { runKubeControllers } from './main';

const shutdown = new AbortController();
process.once('SIGTERM', () => shutdown.abort());
process.once('SIGINT', () => shutdown.abort());

runKubeControllers({ argv: process.argv.slice(2), signal: shutdown.signal }).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`margay-kube-controllers: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
