// Rule identity and rendering, as in felix: every rule we write carries a hash comment chained over
// the chain name, the previous rule's hash and the rule's text, so a rule's identity includes its
// place. Reading the kernel back then needs only chain names and these hashes.

import { createHash } from 'node:crypto';
import type { Chain, Rule } from './types';

/** Our chains start with this prefix; every chain that does not is someone else's. */
export const CHAIN_PREFIX = 'mg-';
/** Our rules' hash comment starts with this, in our chains and in the kernel chains we hook. */
export const HASH_PREFIX = 'mg:';
export const HASH_LENGTH = 16;
/** The kernel's limit for chain names (felix's MaxChainNameLength). */
export const MAX_CHAIN_NAME_LENGTH = 28;
/** The xt_comment match holds at most 255 characters. */
const MAX_COMMENT_LENGTH = 255;

/** A rule with its hash, ready to be written as `-A <chain> <text>`. */
export interface HashedRule {
  readonly hash: string;
  /** Everything after `-A <chain> `: hash comment, optional human comment, match, action. */
  readonly text: string;
}

/** The hashes and rendered text of a chain's rules, in order. */
export function hashRules(chainName: string, rules: readonly Rule[]): HashedRule[] {
  let previous = '';
  return rules.map((rule) => {
    const body = ruleBody(rule);
    const hash = createHash('sha224')
      .update(chainName)
      .update('\0')
      .update(previous)
      .update('\0')
      .update(body)
      .digest('base64url')
      .slice(0, HASH_LENGTH);
    previous = hash;
    return { hash, text: `-m comment --comment "${HASH_PREFIX}${hash}" ${body}` };
  });
}

/** The rule's human comment, match and action, as iptables-restore arguments. */
function ruleBody(rule: Rule): string {
  const comment =
    rule.comment === undefined || rule.comment === ''
      ? ''
      : `-m comment --comment "${cleanComment(rule.comment)}"`;
  return [comment, rule.match.trim(), rule.action.trim()].filter((part) => part !== '').join(' ');
}

/** Comments are notes for people: quotes and control characters would break the restore line. */
function cleanComment(comment: string): string {
  return comment
    .replace(/["\\]/g, "'")
    .replace(/[\x00-\x1f\x7f]/g, ' ')
    .slice(0, MAX_COMMENT_LENGTH);
}

/** Throws, naming the chain and rule, if a chain of ours is malformed. */
export function validateChain(chain: Chain): void {
  validateChainName(chain.name, 'chain');
  if (!chain.name.startsWith(CHAIN_PREFIX)) {
    throw new Error(`chain '${chain.name}' is not ours: our chain names start with '${CHAIN_PREFIX}'`);
  }
  chain.rules.forEach((rule, index) => {
    validateRule(rule, `chain '${chain.name}' rule ${index + 1}`);
  });
}

/** Throws if `name` cannot be an iptables chain name. */
export function validateChainName(name: string, what: string): void {
  if (name === '' || name.length > MAX_CHAIN_NAME_LENGTH || !/^[A-Za-z0-9_.:+-]+$/.test(name)) {
    throw new Error(
      `${what} name '${name}' is invalid: 1-${MAX_CHAIN_NAME_LENGTH} characters of letters, digits and _.:+-`,
    );
  }
}

export function validateRule(rule: Rule, where: string): void {
  for (const [field, value] of [
    ['match', rule.match],
    ['action', rule.action],
  ] as const) {
    if (typeof value !== 'string') throw new Error(`${where}: ${field} must be a string`);
    if (/[\r\n]/.test(value))
      throw new Error(`${where}: ${field} must be one line, got ${JSON.stringify(value)}`);
    if ((value.match(/"/g) ?? []).length % 2 !== 0) {
      throw new Error(`${where}: ${field} has an unbalanced quote: ${JSON.stringify(value)}`);
    }
  }
  if (rule.action.trim() === '') throw new Error(`${where}: action is empty (say -j ACCEPT, -j DROP, ...)`);
  if (/(^|\s)-A\s|(^|\s)--append\s/.test(` ${rule.match} ${rule.action} `)) {
    throw new Error(`${where}: must not contain -A/--append (the Table adds the chain)`);
  }
}

/** The chains a rule text jumps or goes to (`-j X`, `-g X`). */
export function ruleTargets(text: string): string[] {
  return [...text.matchAll(/(?:^|\s)(?:-j|-g|--jump|--goto)\s+(\S+)/g)].map((m) => m[1] ?? '');
}
