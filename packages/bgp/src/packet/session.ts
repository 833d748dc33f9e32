// The negotiated session options the codec depends on.

import { MAX_EXTENDED_MESSAGE_LENGTH, MAX_MESSAGE_LENGTH } from './constants';

export interface SessionContext {
  /** Both sides advertised the four-octet AS capability (RFC 6793): AS numbers are four octets on the wire. */
  readonly fourOctetAs: boolean;
  /** Both sides advertised the extended message capability (RFC 8654). */
  readonly extendedMessages: boolean;
  /** The peer is in our AS. Decides what LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST mean (RFC 7606 §7.5, §7.9, §7.10). */
  readonly ibgp: boolean;
}

/** The largest UPDATE this session may carry. */
export function maxUpdateLength(ctx: SessionContext): number {
  return ctx.extendedMessages ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH;
}
