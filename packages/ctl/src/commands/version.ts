import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RegisterCommand } from '../context';

/** `version`: the package version (package.json sits one level above both src/ and dist/). */
export const registerVersionCommand: RegisterCommand = (program, context) => {
  program
    .command('version')
    .description('print the margayctl version')
    .action(() => {
      const { version } = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
        version: string;
      };
      context.io.stdout.write(`margayctl ${version}\n`);
    });
};
