// --margay-flags: sets of node/V8 flags to start margay-bgpd with, one measured run per set.

import { InvalidArgumentError } from 'commander';

/**
 * Adds one flag set to those given before: words that each start with "--", normalised to single
 * spaces ('' = no flags at all, against the launcher's defaults).
 */
export function nodeFlagSet(text: string, previous: readonly string[]): string[] {
  const words = text
    .trim()
    .split(/\s+/)
    .filter((word) => word !== '');
  const bad = words.find((word) => !/^--[a-z0-9]/i.test(word));
  if (bad !== undefined)
    throw new InvalidArgumentError(`"${bad}" is not a node or V8 flag (--name or --name=value)`);
  return [...previous, words.join(' ')];
}
