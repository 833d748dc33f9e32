// The two things margay-confd asks of BIRD: is this file a valid configuration (`bird -p -c`),
// and take the configuration up again (`birdc -s SOCKET configure`) without restarting.

import { execFile } from 'node:child_process';

export interface BirdControl {
  /** Resolves when BIRD would accept `file`; rejects with BIRD's message (file:line:column …). */
  check(file: string): Promise<void>;
  /** Asks the BIRD behind `socket` to re-read its configuration; rejects with why it did not. */
  reload(socket: string): Promise<void>;
}

function run(file: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 30_000 }, (error, stdout, stderr) => {
      if (error) {
        const said = `${stderr}${stdout}`.trim();
        reject(new Error(said || `${file} ${args.join(' ')}: ${error.message}`));
      } else {
        resolve({ stdout, stderr });
      }
    });
  });
}

/** birdc prints these when BIRD took the new configuration (or queued it behind a running one). */
const RECONFIGURED =
  /^(Reconfigured|Reconfiguration in progress|Reconfiguration already in progress, queueing new config)$/m;

export const birdCommands: BirdControl = {
  async check(file) {
    await run('bird', ['-p', '-c', file]);
  },
  async reload(socket) {
    const { stdout } = await run('birdc', ['-s', socket, 'configure']);
    if (!RECONFIGURED.test(stdout)) {
      // birdc exits 0 even when BIRD refused: its reply says why.
      const reply = stdout
        .split('\n')
        .filter((line) => line && !/^BIRD .* ready\.$/.test(line))
        .join('; ');
      throw new Error(`birdc configure: ${reply || 'no reply'}`);
    }
  },
};
