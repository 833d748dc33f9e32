// Helpers for this package's tests.

import { type DocumentIssue, ResourceValidationError } from './errors';
import { validateResource } from './validate';

/** `path: message` of every issue validating `obj` reports; fails if it validates. */
export function problemsOf(obj: unknown): string[] {
  return issuesOf(obj).map((issue) => `${issue.path}: ${issue.message}`);
}

export function issuesOf(obj: unknown): DocumentIssue[] {
  try {
    validateResource(obj, 'test.yaml');
  } catch (error) {
    if (error instanceof ResourceValidationError) return error.issues;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(obj)} to be rejected, but it validated`);
}

/** A resource document of `kind` named `name` with `spec`, in margay's API group. */
export function doc(kind: string, spec: unknown, metadata: Record<string, unknown> = { name: 'test' }) {
  return { apiVersion: 'margay.io/v1', kind, metadata, spec };
}
