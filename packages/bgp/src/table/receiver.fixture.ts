// Test fixture: a peer's view of what the table sent it, decoded from the wire bytes.

import { type Family, MessageType } from '../packet/constants';
import { MessageFramer } from '../packet/framer';
import type { PathAttributes } from '../packet/path-attributes';
import { prefixStrings } from '../packet/prefixes';
import type { SessionContext } from '../packet/session';
import { decodeUpdate } from '../packet/update-decode';

export class Receiver {
  /** Prefix → attributes of its last announcement. */
  readonly routes = new Map<string, PathAttributes>();
  readonly endOfRib: Family[] = [];
  /** Every buffer handed to send, in order. */
  readonly sent: Buffer[] = [];
  private readonly framer = new MessageFramer();

  constructor(private readonly ctx: SessionContext) {
    this.framer.setExtendedMessages(ctx.extendedMessages);
  }

  readonly send = (bytes: Buffer): void => {
    this.sent.push(bytes);
    this.framer.push(bytes);
    for (let frame = this.framer.next(); frame; frame = this.framer.next()) {
      if (frame.kind === 'error') throw new Error(`table sent a bad message: ${frame.reason}`);
      if (frame.type !== MessageType.Update) throw new Error(`table sent message type ${frame.type}`);
      const update = decodeUpdate(frame.body, this.ctx);
      if (update.action !== 'none') throw new Error(`table sent a bad UPDATE: ${update.problems[0]?.reason}`);
      if (update.endOfRib) this.endOfRib.push(update.endOfRib);
      for (const list of update.withdrawn) {
        for (const prefix of prefixStrings(list)) {
          if (!this.routes.delete(prefix)) throw new Error(`withdrawal of ${prefix}, never announced`);
        }
      }
      for (const list of [update.announced, update.mpAnnounced]) {
        if (list) for (const prefix of prefixStrings(list)) this.routes.set(prefix, update.attributes!);
      }
    }
  };
}
