import type { RegisterCommand } from '../context';
import { registerBgpCommand } from './bgp';
import { registerDeleteCommand } from './delete';
import { registerGetCommand } from './get';
import { registerIpamCommand } from './ipam';
import { registerNodeCommand } from './node';
import { registerVersionCommand } from './version';
import { registerWriteCommands } from './write';

/** Every command of margayctl, in the order `--help` lists them. A new command is a new module here. */
export const COMMANDS: RegisterCommand[] = [
  registerWriteCommands,
  registerDeleteCommand,
  registerGetCommand,
  registerBgpCommand,
  registerIpamCommand,
  registerNodeCommand,
  registerVersionCommand,
];
