import { readFile } from 'node:fs/promises';
import { type DocumentIssue, parseResources, type Resource, ResourceValidationError } from '@margay/api';
import { CommandError } from './errors';
import { findDuplicates, refOf } from './identity';

/** The `-f` value that means standard input. */
const STDIN = '-';
const STDIN_SOURCE = '<stdin>';

/**
 * Read and validate every document of every file (`-` = stdin) before anything is written:
 * any unreadable file, invalid document or duplicate resource fails the whole lot with one
 * CommandError listing every problem.
 */
export async function readResourceFiles(files: string[], stdin: NodeJS.ReadableStream): Promise<Resource[]> {
  let stdinText: Promise<string> | undefined;
  const readStdin = () => {
    stdinText ??= readAll(stdin); // `-f -` twice reads stdin once
    return stdinText;
  };
  const problems: string[] = [];
  const entries: { resource: Resource; origin: string }[] = [];
  for (const file of files) {
    const source = file === STDIN ? STDIN_SOURCE : file;
    let text: string;
    try {
      text = file === STDIN ? await readStdin() : await readFile(file, 'utf8');
    } catch (error) {
      problems.push(`${source}: cannot read: ${(error as Error).message}`);
      continue;
    }
    try {
      for (const resource of parseResources(text, source)) entries.push({ resource, origin: source });
    } catch (error) {
      if (!(error instanceof ResourceValidationError)) throw error;
      problems.push(...error.issues.map(formatIssue));
    }
  }
  problems.push(...findDuplicates(entries.map(({ resource, origin }) => ({ ref: refOf(resource), origin }))));
  if (problems.length > 0) throw new CommandError([...problems, 'nothing was written']);
  if (entries.length === 0) {
    const sources = files.map((file) => (file === STDIN ? STDIN_SOURCE : file));
    throw new CommandError([`no resources found in ${sources.join(', ')}`]);
  }
  return entries.map(({ resource }) => resource);
}

/** `FILE: document N (Kind name): field.path: reason` */
function formatIssue(issue: DocumentIssue): string {
  const what = [issue.kind, issue.name].filter(Boolean).join(' ');
  const where = what ? ` (${what})` : '';
  const path = issue.path ? `${issue.path}: ` : '';
  return `${issue.source}: document ${issue.document}${where}: ${path}${issue.message}`;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}
