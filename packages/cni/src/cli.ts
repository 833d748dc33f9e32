#!/usr/bin/env node
// margay-cni: the binary a container runtime executes (CNI_* in the environment, config on stdin).

import { runPlugin } from './main';

async function readStdin(): Promise<string> {
  // VERSION may come without any stdin attached.
  if (process.stdin.isTTY) return '';
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

readStdin()
  .then((stdin) => runPlugin(process.env, stdin))
  .then(({ exitCode, stdout }) => {
    if (stdout !== '') process.stdout.write(`${stdout}\n`);
    process.exitCode = exitCode;
  });
