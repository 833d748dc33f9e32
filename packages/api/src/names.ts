// Kubernetes naming rules (apimachinery validation), returning a problem description or undefined.

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

/** Resource names: lower-case DNS-1123 subdomain (e.g. `default.allow-dns`). */
export function dnsSubdomainProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (name.length > 253) return `must be at most 253 characters (got ${name.length})`;
  if (!name.split('.').every((part) => DNS_LABEL.test(part))) {
    return (
      `${JSON.stringify(name)} is not a valid name: use lower-case letters, digits, "-" and ".", ` +
      'starting and ending with a letter or digit'
    );
  }
  return undefined;
}

/** Namespace names: lower-case DNS-1123 label. */
export function dnsLabelProblem(name: string): string | undefined {
  if (name.length > 63) return `must be at most 63 characters (got ${name.length})`;
  if (!DNS_LABEL.test(name)) {
    return (
      `${JSON.stringify(name)} is not a valid DNS label: use lower-case letters, digits and "-", ` +
      'starting and ending with a letter or digit'
    );
  }
  return undefined;
}

/** Label and annotation keys: `[prefix/]name`, prefix a DNS subdomain, name up to 63 characters. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = key.slice(slash + 1);
  if (prefix !== undefined && dnsSubdomainProblem(prefix) !== undefined) {
    return `key ${JSON.stringify(key)}: prefix ${JSON.stringify(prefix)} must be a lower-case DNS subdomain`;
  }
  if (name.length > 63 || !LABEL_NAME.test(name)) {
    return (
      `key ${JSON.stringify(key)}: name part must be 1-63 characters of letters, digits, "-", "_" and ".", ` +
      'starting and ending with a letter or digit'
    );
  }
  return undefined;
}

/** Label values: empty, or up to 63 characters like a label name. */
export function labelValueProblem(value: string): string | undefined {
  if (value === '' || (value.length <= 63 && LABEL_NAME.test(value))) return undefined;
  return (
    `value ${JSON.stringify(value)} must be at most 63 characters of letters, digits, "-", "_" and ".", ` +
    'starting and ending with a letter or digit'
  );
}

/** IANA service names, as used for named ports: 1-15 of [a-z0-9-], a letter, no "--", no edge "-". */
export function portNameProblem(name: string): string | undefined {
  const valid =
    name.length <= 15 &&
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) &&
    /[a-z]/.test(name) &&
    !name.includes('--');
  return valid
    ? undefined
    : `${JSON.stringify(name)} is not a port number, range "from:to" or port name ` +
        '(1-15 lower-case letters, digits and single "-", with at least one letter)';
}
