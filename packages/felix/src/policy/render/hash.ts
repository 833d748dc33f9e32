// SHA-256 of a text in one call: crypto.hash (Node >= 20.12) costs a fraction of a Hash object,
// and names are hashed thousands of times at a start. The same digest either way, so names stay
// stable across Node versions.

import * as crypto from 'node:crypto';

export const sha256: (data: string, encoding: 'hex' | 'base64url') => string =
  typeof crypto.hash === 'function'
    ? (data, encoding) => crypto.hash('sha256', data, encoding)
    : (data, encoding) => crypto.createHash('sha256').update(data).digest(encoding);
