// Rule identity and rendering, as in felix: every rule we write carries a hash comment chained over
// the chain name, the previous rule's hash and the rule's text, so a rule's identity includes its
// place. Reading the kernel back then needs only chain names and these hashes.

import * as crypto from 'node:crypto';
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

/**
 * SHA-224 in one call: a start stages ~13,000 rules, and crypto.hash (Node >= 20.12) costs half
 * of a Hash object per rule. Same digest either way, so hashes stay stable across versions.
 */
const sha224 =
  typeof crypto.hash === 'function'
    ? (data: string) => crypto.hash('sha224', data, 'base64url')
    : (data: string) => crypto.createHash('sha224').update(data).digest('base64url');

/** The hashes and rendered text of a chain's rules, in order. */
export function hashRules(chainName: string, rules: readonly Rule[]): HashedRule[] {
  let previous = '';
  const hashed: HashedRule[] = new Array(rules.length);
  for (let index = 0; index < rules.length; index++) {
    const body = ruleBody(rules[index] as Rule);
    // Chained: the chain name, the previous rule's hash and this rule's text.
    const hash = sha224(`${chainName}\0${previous}\0${body}`).slice(0, HASH_LENGTH);
    previous = hash;
    hashed[index] = { hash, text: `-m comment --comment "${HASH_PREFIX}${hash}" ${body}` };
  }
  return hashed;
}

// The functions below run for every rule of a start (~13,000): plain code without per-call arrays
// or closures, which V8 also optimizes at a fraction of the compile cost.

/** The rule's human comment, match and action, as iptables-restore arguments. */
function ruleBody(rule: Rule): string {
  const comment = rule.comment;
  const body =
    comment === undefined || comment === '' ? '' : `-m comment --comment "${cleanComment(comment)}"`;
  return appendPart(appendPart(body, rule.match.trim()), rule.action.trim());
}

function appendPart(text: string, part: string): string {
  if (part === '') return text;
  return text === '' ? part : `${text} ${part}`;
}

/** What cleanComment replaces. */
const UNCLEAN_COMMENT = /["\\\x00-\x1f\x7f]/;

/** Comments are notes for people: quotes and control characters would break the restore line. */
function cleanComment(comment: string): string {
  // Nearly every comment is clean: test once rather than run both replacements.
  const clean = UNCLEAN_COMMENT.test(comment)
    ? comment.replace(/["\\]/g, "'").replace(/[\x00-\x1f\x7f]/g, ' ')
    : comment;
  return clean.length > MAX_COMMENT_LENGTH ? clean.slice(0, MAX_COMMENT_LENGTH) : clean;
}

/** Throws, naming the chain and rule, if a chain of ours is malformed. */
export function validateChain(chain: Chain): void {
  validateChainName(chain.name, 'chain');
  if (!chain.name.startsWith(CHAIN_PREFIX)) {
    throw new Error(`chain '${chain.name}' is not ours: our chain names start with '${CHAIN_PREFIX}'`);
  }
  // A start validates ~13,000 rules: the place is named only when something is wrong.
  const rules = chain.rules;
  for (let index = 0; index < rules.length; index++) {
    const problem = ruleProblem(rules[index] as Rule);
    if (problem !== undefined) throw new Error(`chain '${chain.name}' rule ${index + 1}: ${problem}`);
  }
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
  const problem = ruleProblem(rule);
  if (problem !== undefined) throw new Error(`${where}: ${problem}`);
}

/** What is wrong with a rule, or undefined. */
function ruleProblem(rule: Rule): string | undefined {
  const problem = fieldProblem('match', rule.match) ?? fieldProblem('action', rule.action);
  if (problem !== undefined) return problem;
  if (rule.action.trim() === '') return 'action is empty (say -j ACCEPT, -j DROP, ...)';
  if (
    (appends(rule.match) || appends(rule.action)) &&
    /(^|\s)-A\s|(^|\s)--append\s/.test(` ${rule.match} ${rule.action} `)
  ) {
    return 'must not contain -A/--append (the Table adds the chain)';
  }
  return undefined;
}

/** What is wrong with a rule's match or action, or undefined. */
function fieldProblem(field: 'match' | 'action', value: unknown): string | undefined {
  if (typeof value !== 'string') return `${field} must be a string`;
  if (value.includes('\n') || value.includes('\r'))
    return `${field} must be one line, got ${JSON.stringify(value)}`;
  if (quoteCount(value) % 2 !== 0) return `${field} has an unbalanced quote: ${JSON.stringify(value)}`;
  return undefined;
}

function appends(value: string): boolean {
  return value.includes('-A') || value.includes('--append');
}

function quoteCount(value: string): number {
  let count = 0;
  for (let at = value.indexOf('"'); at >= 0; at = value.indexOf('"', at + 1)) count++;
  return count;
}

/** The chains a rule text jumps or goes to (`-j X`, `-g X`). */
export function ruleTargets(text: string): string[] {
  return [...text.matchAll(/(?:^|\s)(?:-j|-g|--jump|--goto)\s+(\S+)/g)].map((m) => m[1] ?? '');
}
