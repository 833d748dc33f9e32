// e2e/cluster: the harness from a shell. Each subcommand is a module of its own under commands/;
// a new one (e.g. `pod add`) is one more module and one more entry in the list below.
import { Command } from 'commander';
import { requireHarnessRoot } from './cluster';
import { agentCommand } from './commands/agent';
import { downCommand } from './commands/down';
import { envCommand } from './commands/env';
import { execCommand } from './commands/exec';
import { nsCommand } from './commands/ns';
import { podCommand } from './commands/pod';
import { statusCommand } from './commands/status';
import { upCommand } from './commands/up';

const program = new Command('e2e/cluster')
  .description('network-namespace clusters for margay end-to-end tests')
  .showHelpAfterError()
  .hook('preAction', requireHarnessRoot);
for (const command of [
  upCommand,
  statusCommand,
  execCommand,
  envCommand,
  podCommand,
  nsCommand,
  agentCommand,
  downCommand,
]) {
  program.addCommand(command().copyInheritedSettings(program));
}

program.parseAsync().catch((error: Error) => {
  console.error(`e2e/cluster: ${error.message}`);
  process.exitCode = 1;
});
