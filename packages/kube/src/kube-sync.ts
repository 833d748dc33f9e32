// margay-kube-controllers: one informer per Kubernetes kind, each applying its events to the
// datastore through its own serial queue, plus datastore watches that catch the moment the CNI
// plugin writes an endpoint (or margay-node a Node) after Kubernetes reported the pod (or node).

import { CoreV1Api, type KubeConfig, NetworkingV1Api } from '@kubernetes/client-node';
import { decodeResource, isKind, resourcePrefix } from '@margay/api';
import type { Datastore, Watch, WatchEvent } from '@margay/datastore';
import { Ipam } from '@margay/ipam';
import { type Logger, silentLogger } from '@margay/log';
import type { KubeNamespace, KubeNetworkPolicy, KubeNode, KubePod } from './kube-objects';
import { KUBERNETES_ORCHESTRATOR, kubeNameOf } from './mapping';
import { namespaceSync } from './namespace-sync';
import { nodeSync } from './node-sync';
import { podSync } from './pod-sync';
import { policySync } from './policy-sync';
import { SyncLoop } from './sync-loop';

export interface KubeSyncOptions {
  kubeConfig: KubeConfig;
  store: Datastore;
  logger?: Logger;
  /** First delay before restarting a failed informer or retrying a failed write (default 200 ms). */
  restartDelayMs?: number;
}

export class KubeSync {
  readonly policies: SyncLoop<KubeNetworkPolicy>;
  readonly namespaces: SyncLoop<KubeNamespace>;
  readonly pods: SyncLoop<KubePod>;
  readonly nodes: SyncLoop<KubeNode>;
  private readonly log: Logger;
  private readonly store: Datastore;
  private readonly watches: Watch[] = [];

  private constructor(options: KubeSyncOptions) {
    const { kubeConfig, store } = options;
    this.store = store;
    this.log = options.logger ?? silentLogger;
    const core = kubeConfig.makeApiClient(CoreV1Api);
    const networking = kubeConfig.makeApiClient(NetworkingV1Api);
    const loopOptions = {
      logger: this.log,
      ...(options.restartDelayMs !== undefined && { restartDelayMs: options.restartDelayMs }),
    };
    this.policies = new SyncLoop(policySync(store, networking, this.log), kubeConfig, loopOptions);
    this.namespaces = new SyncLoop(namespaceSync(store, core, this.log), kubeConfig, loopOptions);
    this.pods = new SyncLoop(podSync(store, core, this.log), kubeConfig, loopOptions);
    this.nodes = new SyncLoop(nodeSync(store, core, new Ipam(store), this.log), kubeConfig, loopOptions);
  }

  /** Starts every informer; resolves once each has made its first attempt to list. */
  static async start(options: KubeSyncOptions): Promise<KubeSync> {
    const sync = new KubeSync(options);
    sync.watchDatastore();
    await Promise.all(sync.loops().map((loop) => loop.start()));
    return sync;
  }

  /** Stops watching and lets queued work finish. The datastore stays open (it is the caller's). */
  async stop(): Promise<void> {
    await Promise.all(this.watches.map((watch) => watch.close()));
    await Promise.all(this.loops().map((loop) => loop.stop()));
  }

  private loops(): SyncLoop<KubeNetworkPolicy | KubeNamespace | KubePod | KubeNode>[] {
    return [this.policies, this.namespaces, this.pods, this.nodes] as SyncLoop<
      KubeNetworkPolicy | KubeNamespace | KubePod | KubeNode
    >[];
  }

  /**
   * An endpoint written after its pod was reported gets the pod's labels here, and a Node written
   * after its Kubernetes node was reported gets its labels; a write that changes nothing stops there.
   */
  private watchDatastore(): void {
    const onError = (error: Error) => this.log.error('datastore watch stopped', { error: error.message });
    this.watches.push(
      this.store.watch(resourcePrefix('WorkloadEndpoint'), {
        onEvent: (event) => this.onStored(event),
        onError,
      }),
      this.store.watch(resourcePrefix('Node'), { onEvent: (event) => this.onStored(event), onError }),
    );
  }

  private onStored(event: WatchEvent): void {
    if (event.type !== 'put') return;
    let resource: ReturnType<typeof decodeResource>;
    try {
      resource = decodeResource(event.kv.value);
    } catch {
      return; // reported by whoever lists it
    }
    if (isKind(resource, 'WorkloadEndpoint')) {
      const { pod: podName, orchestrator } = resource.spec;
      if (orchestrator !== KUBERNETES_ORCHESTRATOR || podName === undefined) return;
      const pod = this.pods.cached(podName, resource.metadata.namespace);
      if (pod) this.pods.refresh(pod);
    } else if (isKind(resource, 'Node')) {
      const kubeNode = this.nodes.cached(kubeNameOf(resource) ?? resource.metadata.name);
      if (kubeNode) this.nodes.refresh(kubeNode);
    }
  }
}
