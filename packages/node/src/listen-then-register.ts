// Start order of a node's BGP side: the speaker listens before the Node resource is written.
// Other nodes configure a peer for us as soon as they see our Node; if we were not listening yet,
// their first connections would be refused and retried with backoff (issue #5). So the agent
// starts first, configured with the Node we are about to write, and the write comes once its
// speaker is up. A restarting node does the same: its listener is back before its Node update.

import type { Node } from '@margay/api';
import type { Logger } from '@margay/bgp';
import { silentLogger } from '@margay/bgp';
import type { Datastore } from '@margay/datastore';
import { BgpAgent, type BgpAgentOptions } from './bgp-agent';
import { type NodeRegistration, plannedNode, writeRegistration } from './registration';

/** How long registration waits for the speaker before going ahead without it. */
export const SPEAKER_WAIT_MS = 10_000;

export interface ListenThenRegisterOptions {
  readonly store: Datastore;
  readonly registration: NodeRegistration;
  /** The agent's options other than those this sequence sets. */
  readonly agent?: Omit<BgpAgentOptions, 'store' | 'nodeName' | 'pendingSelf'>;
  readonly logger?: Logger;
  /** Default SPEAKER_WAIT_MS. */
  readonly speakerWaitMs?: number;
}

export interface AgentAndNode {
  readonly agent: BgpAgent;
  /** The Node as registered. */
  readonly node: Node;
}

/**
 * Starts the BGP agent, waits for its speaker (bounded: a speaker that cannot start must not keep
 * the node from registering), then registers the Node. If registration fails, the agent is closed
 * the way a restart closes it (peers keep our routes) and the error is thrown.
 */
export async function listenThenRegister(options: ListenThenRegisterOptions): Promise<AgentAndNode> {
  const { store, registration } = options;
  const log = options.logger ?? silentLogger;
  const pendingSelf = await plannedNode(store, registration); // a bad registration fails here, before anything starts
  const agent = BgpAgent.start({ ...options.agent, store, nodeName: registration.name, pendingSelf });
  try {
    const waitMs = options.speakerWaitMs ?? SPEAKER_WAIT_MS;
    if (!(await agent.speakerStarted(waitMs))) {
      log.warn('registering the node before its BGP speaker listens', { node: registration.name, waitMs });
    }
    const { node, revision } = await writeRegistration(store, registration);
    agent.selfRegistered(revision);
    return { agent, node };
  } catch (error) {
    await agent.close({ restarting: true });
    throw error;
  }
}
