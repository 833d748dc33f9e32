/** One problem with one document of an input file. */
export interface DocumentIssue {
  source: string;
  /** 1-based index of the document in the file. */
  document: number;
  kind?: string;
  name?: string;
  /** Dotted path of the offending field, e.g. `spec.ingress[0].destination.ports[1]`; '' for the document. */
  path: string;
  message: string;
}

export function formatIssue(issue: DocumentIssue): string {
  const what = [issue.kind, issue.name].filter((part) => part !== undefined).join(' ');
  return (
    `${issue.source}: document ${issue.document}` +
    (what === '' ? '' : ` (${what})`) +
    `: ${issue.path === '' ? '' : `${issue.path}: `}${issue.message}`
  );
}

/** Thrown when input does not validate; lists every problem found, one per line in the message. */
export class ResourceValidationError extends Error {
  readonly issues: DocumentIssue[];

  constructor(issues: DocumentIssue[]) {
    super(issues.map(formatIssue).join('\n'));
    this.name = 'ResourceValidationError';
    this.issues = issues;
  }
}
