export type IpamErrorCode = 'no-pool' | 'pool-exhausted' | 'invalid-request' | 'conflict-retries';

/** An IPAM request that cannot be served; `code` says why, the message says what and where. */
export class IpamError extends Error {
  constructor(
    readonly code: IpamErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'IpamError';
  }
}
