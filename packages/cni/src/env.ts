// The invocation's parameters, from the environment the runtime sets (CNI spec "Parameters").

import { CniError, ERROR_CODES } from './errors';

export const COMMANDS = ['ADD', 'DEL', 'CHECK', 'VERSION', 'GC', 'STATUS'] as const;
export type Command = (typeof COMMANDS)[number];

export interface CniEnvironment {
  command: Command;
  /** Empty for VERSION, GC and STATUS, which concern no container. */
  containerId: string;
  /** Path of the pod's network namespace; DEL may come without it (the pod is gone). */
  netns: string;
  ifName: string;
  /** CNI_ARGS as key/value pairs, e.g. K8S_POD_NAMESPACE, K8S_POD_NAME, MARGAY_POD_LABELS. */
  args: Record<string, string>;
  path: string[];
}

// The spec's rules for container ids and interface names.
const CONTAINER_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const IFNAME = /^[^/:\s]{1,15}$/;

/** Reads CNI_* variables; throws code 4 naming the variable that is missing or malformed. */
export function parseEnvironment(env: NodeJS.ProcessEnv): CniEnvironment {
  const command = env['CNI_COMMAND'] ?? '';
  if (!(COMMANDS as readonly string[]).includes(command)) {
    throw invalidEnv(`CNI_COMMAND must be one of ${COMMANDS.join(', ')} (got ${JSON.stringify(command)})`);
  }
  const parsed: CniEnvironment = {
    command: command as Command,
    containerId: env['CNI_CONTAINERID'] ?? '',
    netns: env['CNI_NETNS'] ?? '',
    ifName: env['CNI_IFNAME'] ?? '',
    args: parseArgs(env['CNI_ARGS'] ?? ''),
    path: (env['CNI_PATH'] ?? '').split(':').filter((dir) => dir !== ''),
  };
  if (command === 'ADD' || command === 'DEL' || command === 'CHECK') {
    if (!CONTAINER_ID.test(parsed.containerId)) {
      throw invalidEnv(
        `CNI_CONTAINERID must start with a letter or digit and hold only letters, digits, "_", "." and "-" (got ${JSON.stringify(parsed.containerId)})`,
      );
    }
    if (!IFNAME.test(parsed.ifName)) {
      throw invalidEnv(
        `CNI_IFNAME must be 1-15 characters without "/", ":" or spaces (got ${JSON.stringify(parsed.ifName)})`,
      );
    }
    if (command !== 'DEL' && !parsed.netns.startsWith('/')) {
      throw invalidEnv(
        `CNI_NETNS must be the path of the pod's network namespace (got ${JSON.stringify(parsed.netns)})`,
      );
    }
  }
  return parsed;
}

/** `K1=V1;K2=V2`; a value may itself hold "=" (labels: `MARGAY_POD_LABELS=app=web,tier=db`). */
function parseArgs(text: string): Record<string, string> {
  const args: Record<string, string> = {};
  for (const pair of text.split(';')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) throw invalidEnv(`CNI_ARGS: ${JSON.stringify(pair)} is not KEY=VALUE`);
    args[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return args;
}

function invalidEnv(message: string): CniError {
  return new CniError(ERROR_CODES.invalidEnvironment, message);
}
