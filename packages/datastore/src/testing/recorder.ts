import { isDeepStrictEqual } from 'node:util';
import type { Datastore, KeyValue, Watch, WatchEvent } from '../types';

/** Watches a prefix and keeps every event and error, for tests. */
export class WatchRecorder {
  readonly events: WatchEvent[] = [];
  readonly errors: Error[] = [];
  readonly watch: Watch;

  constructor(store: Datastore, prefix: string) {
    this.watch = store.watch(prefix, {
      onEvent: (event) => this.events.push(event),
      onError: (error) => this.errors.push(error),
    });
  }

  count(type: WatchEvent['type']): number {
    return this.events.filter((event) => event.type === type).length;
  }

  /** What a consumer holds after the events so far (checked for consistency by `replay`). */
  state(): Map<string, KeyValue> {
    return replay(this.events);
  }
}

/**
 * Apply watch events as a consumer would, checking each against what came before: `prev` is the
 * value last delivered for the key, a put is newer than it, a delete removes a delivered key.
 * A duplicate or a missed event breaks one of these and throws.
 */
export function replay(events: WatchEvent[]): Map<string, KeyValue> {
  const held = new Map<string, KeyValue>();
  events.forEach((event, i) => {
    const where = `event ${i} ${JSON.stringify(event)}`;
    if (event.type === 'put') {
      const last = held.get(event.kv.key);
      if (!isDeepStrictEqual(event.prev, last)) {
        throw new Error(`${where}: prev is not the last delivered value ${JSON.stringify(last)}`);
      }
      if (last && event.kv.modRevision <= last.modRevision)
        throw new Error(`${where}: not newer than ${last.modRevision}`);
      held.set(event.kv.key, event.kv);
    } else if (event.type === 'delete') {
      const last = held.get(event.key);
      if (!last) throw new Error(`${where}: deletes a key that is not held (a duplicate?)`);
      if (!isDeepStrictEqual(event.prev, last))
        throw new Error(`${where}: prev is not ${JSON.stringify(last)}`);
      held.delete(event.key);
    }
  });
  return held;
}

/** The store's items as a map, to compare with `replay`. */
export function byKey(items: KeyValue[]): Map<string, KeyValue> {
  return new Map(items.map((kv) => [kv.key, kv]));
}
