// One invocation, as a runtime makes it: environment and stdin in, JSON and an exit code out.
// VERSION and input errors answer without loading etcd, IPAM or the resource schemas: kubelet
// starts the plugin once per pod operation, and those modules dominate start-up. Hence the
// `require`s inside the function, which esbuild keeps lazy in the bundle.

import { parseNetworkConfig, requestedVersion, SUPPORTED_VERSIONS } from './config';
import { parseEnvironment } from './env';
import { errorResult } from './errors';
import { makeLog } from './log';

export interface PluginOutput {
  exitCode: 0 | 1;
  /** The result or error JSON; empty for a successful DEL, CHECK, GC or STATUS. */
  stdout: string;
}

export async function runPlugin(env: NodeJS.ProcessEnv, stdin: string): Promise<PluginOutput> {
  const cniVersion = requestedVersion(stdin);
  try {
    const { command, ...cniEnv } = parseEnvironment(env);
    if (command === 'VERSION') {
      return success({ cniVersion, supportedVersions: SUPPORTED_VERSIONS });
    }
    const config = parseNetworkConfig(stdin);
    const log = makeLog(config.logLevel, config.logFile);
    const { connect } = require('./connect') as typeof import('./connect');
    const node = connect(config, env, log);
    try {
      const plugin = require('./plugin') as typeof import('./plugin');
      const ctx = { ...node, env: { command, ...cniEnv }, config, log };
      switch (command) {
        case 'ADD':
          return success(await plugin.add(ctx));
        case 'DEL':
          await plugin.del(ctx);
          break;
        case 'CHECK':
          await plugin.check(ctx);
          break;
        case 'GC':
          await plugin.gc(ctx);
          break;
        case 'STATUS':
          await plugin.status(node.store);
          break;
      }
      return { exitCode: 0, stdout: '' };
    } finally {
      await node.close();
    }
  } catch (error) {
    return { exitCode: 1, stdout: JSON.stringify(errorResult(error, cniVersion)) };
  }
}

function success(result: object): PluginOutput {
  return { exitCode: 0, stdout: JSON.stringify(result) };
}
