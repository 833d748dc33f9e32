// ROUTE-REFRESH messages (RFC 2918) with the Message Subtype of enhanced route refresh
// (RFC 7313): a plain request, Beginning of Route Refresh (BoRR) or End of Route Refresh (EoRR).

import {
  ErrorCode,
  type Family,
  HEADER_LENGTH,
  MessageType,
  RouteRefreshSubcode,
  RouteRefreshSubtype,
} from './constants';
import { allocMessage } from './header';
import { type Notification, notification } from './notification';

export interface RouteRefresh {
  readonly family: Family;
  readonly subtype: RouteRefreshSubtype;
}

export type RouteRefreshResult =
  | { readonly kind: 'refresh'; readonly refresh: RouteRefresh }
  /** RFC 7313 §5: unknown subtypes are ignored. */
  | { readonly kind: 'ignore'; readonly reason: string }
  | { readonly kind: 'error'; readonly notification: Notification; readonly reason: string };

const BODY_LENGTH = 4;

export function encodeRouteRefresh(
  family: Family,
  subtype: RouteRefreshSubtype = RouteRefreshSubtype.Normal,
): Buffer {
  const msg = allocMessage(MessageType.RouteRefresh, BODY_LENGTH);
  msg.writeUInt16BE(family.afi, HEADER_LENGTH);
  msg[HEADER_LENGTH + 2] = subtype;
  msg[HEADER_LENGTH + 3] = family.safi;
  return msg;
}

/** Decodes a ROUTE-REFRESH body (the message after its header). */
export function decodeRouteRefresh(body: Buffer): RouteRefreshResult {
  const subtype = body.length >= 3 ? body[2]! : RouteRefreshSubtype.Normal;
  // Subtype 0 may carry ORF entries (RFC 5291) after the four octets; BoRR and EoRR may not.
  const lengthOk =
    subtype === RouteRefreshSubtype.Normal ? body.length >= BODY_LENGTH : body.length === BODY_LENGTH;
  if (!lengthOk) {
    // RFC 7313 §5: the data is the whole offending message.
    const message = allocMessage(MessageType.RouteRefresh, body.length);
    body.copy(message, HEADER_LENGTH);
    return {
      kind: 'error',
      notification: notification(
        ErrorCode.RouteRefreshMessage,
        RouteRefreshSubcode.InvalidMessageLength,
        message,
      ),
      reason: `ROUTE-REFRESH body of ${body.length} octets, expected ${BODY_LENGTH}`,
    };
  }
  if (subtype > RouteRefreshSubtype.EndOfRouteRefresh) {
    return { kind: 'ignore', reason: `ROUTE-REFRESH subtype ${subtype} is reserved` };
  }
  return {
    kind: 'refresh',
    refresh: {
      family: { afi: body.readUInt16BE(0), safi: body[3]! },
      subtype: subtype as RouteRefreshSubtype,
    },
  };
}
