// margay-confd's status key: how the last render went, and which configuration BIRD runs. Not
// leased, so the last word stays readable by `margayctl node status` after margay-confd stops;
// `time` says how old it is.

import { statusKeys } from '@margay/api';
import type { Datastore } from '@margay/datastore';

export const confdStatusKey = statusKeys.confd;

/** Where an apply stopped: its output was not used from that step on. */
export type ConfdStage = 'render' | 'check' | 'write' | 'reload';

export interface ConfdStatus {
  /** When this was written (ISO 8601). */
  readonly time: string;
  readonly node: string;
  /** false: the last change in etcd is not in BIRD; `error` says why, BIRD runs `config`. */
  readonly ok: boolean;
  readonly stage?: ConfdStage;
  readonly error?: string;
  /** The configuration in use: its file, a digest and since when. */
  readonly config?: { readonly file: string; readonly sha256: string; readonly since: string };
}

export async function writeConfdStatus(store: Datastore, status: ConfdStatus): Promise<void> {
  await store.put(confdStatusKey(status.node), JSON.stringify(status));
}

/** The stored status of `nodeName`, or undefined when there is none or it is not ours. */
export async function readConfdStatus(store: Datastore, nodeName: string): Promise<ConfdStatus | undefined> {
  const kv = await store.get(confdStatusKey(nodeName));
  if (!kv) return undefined;
  try {
    return JSON.parse(kv.value) as ConfdStatus;
  } catch {
    return undefined;
  }
}
