// The CNI spec's error result: every failure leaves the plugin as `{cniVersion, code, msg, details}`
// on stdout. Codes below 100 are the spec's; 100 and up are margay's own.

export const ERROR_CODES = {
  incompatibleVersion: 1,
  unsupportedField: 2,
  unknownContainer: 3,
  invalidEnvironment: 4,
  io: 5,
  decode: 6,
  invalidNetworkConfig: 7,
  tryAgainLater: 11,
  /** STATUS: the plugin cannot serve ADD now (etcd unreachable, no IP pool). */
  notAvailable: 50,
  /** IPAM: no enabled pool matches this node and request. */
  noPool: 100,
  /** IPAM: every address of the matching pools is taken. */
  poolExhausted: 101,
  /** CHECK: something ADD created is missing or wrong. */
  checkFailed: 102,
} as const;

export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];

export class CniError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details = '',
  ) {
    super(message);
    this.name = 'CniError';
  }
}

export interface ErrorResult {
  cniVersion: string;
  code: number;
  msg: string;
  details?: string;
}

/** The spec's error JSON for any thrown value; unexpected errors count as I/O failures. */
export function errorResult(error: unknown, cniVersion: string): ErrorResult {
  if (error instanceof CniError) {
    return {
      cniVersion,
      code: error.code,
      msg: error.message,
      ...(error.details && { details: error.details }),
    };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { cniVersion, code: ERROR_CODES.io, msg: message };
}
