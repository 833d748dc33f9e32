import { KINDS, type KindInfo, lookupKind } from '@margay/api';
import { UsageError } from './errors';

/** The KIND of `get KIND` / `delete KIND NAME`: a kind, its plural or a short alias, any case. */
export function parseKindArgument(verb: string, argument: string | undefined): KindInfo {
  const info = argument === undefined ? undefined : lookupKind(argument);
  if (info) return info;
  const problem = argument === undefined ? `${verb} needs a KIND` : `unknown kind "${argument}"`;
  const known = KINDS.map((kind) => `${kind.kind} (${kind.plural})`).join(', ');
  throw new UsageError(`${problem}; one of: ${known}`);
}
