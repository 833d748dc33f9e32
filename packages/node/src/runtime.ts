// How margay-node runs, in one place: the Node.js flags its launchers pass (bin/margay-node and
// the image's margay-node command; runtime.test.ts holds them to these), and the priority of the
// commands that write the dataplane.

/**
 * The old generation starts at 128 MiB instead of growing from a few: at start the agent builds
 * its model of the whole cluster (10,000 endpoints: tens of MiB), and V8 would run full
 * collections all the way up, on the node's cores, while felix programs the kernel.
 */
export const NODE_FLAGS: readonly string[] = ['--initial-old-space-size=128'];

/**
 * Commands (ip, iptables-restore, ipset) run at nice -10: felix's dataplane writes come before
 * the agent's own background work (V8's compiler and collector) on a busy node. In a container
 * the priority only ranks the agent's processes among themselves: its cgroup's share is its own.
 */
export const COMMAND_PRIORITY = -10;
