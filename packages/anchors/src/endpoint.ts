import { randomInt } from 'node:crypto';
import { freePort } from '@margay/testkit';

/**
 * A fresh place for a daemon to listen: a random address in 127.0.0.0/8 (all of it is on `lo`)
 * away from the much-used 127.0.0.x and 127.0.1.x, and a port that is free on it. Runs at the same
 * time (other test files, other engineers) do not collide.
 */
export async function loopbackEndpoint(): Promise<{ address: string; port: number }> {
  const address = `127.${randomInt(16, 255)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
  return { address, port: await freePort(address) };
}
