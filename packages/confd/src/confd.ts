// Keeps BIRD's configuration in step with etcd: list-then-watch of what the templates declare they
// use, a render shortly after each burst of changes, and only when the result differs from the
// file BIRD runs: check it with `bird -p`, swap it in atomically, `birdc configure`. A result that
// fails any step leaves the previous file (and BIRD) as they were and says why in the logs and
// the status key.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import {
  type BGPConfiguration,
  type BGPPeer,
  decodeResources,
  type IPPool,
  type Kind,
  type Node,
  type Resource,
  resourcePrefix,
} from '@margay/api';
import { type Logger, silentLogger } from '@margay/bgp';
import { type Datastore, PrefixMirror } from '@margay/datastore';
import { cidrOfKey, ipamKeys, isConfirmedAffinity } from '@margay/ipam';
import { type BirdControl, birdCommands } from './bird';
import { type Input, renderBird, type TemplateSet } from './render';
import { type ConfdStage, type ConfdStatus, writeConfdStatus } from './status';
import type { ConfdSnapshot } from './view';

export interface ConfdOptions {
  readonly store: Datastore;
  readonly nodeName: string;
  /** The file BIRD reads (`bird -c FILE`). */
  readonly configFile: string;
  /** BIRD's control socket; without it the file is written and BIRD is not asked to reload. */
  readonly birdSocket?: string;
  readonly templates: TemplateSet;
  /** Secrets as a Kubernetes secret volume lays them out: DIR/<secret name>/<key>. */
  readonly secretsDir?: string;
  /** Export learned routes to the kernel. */
  readonly kernelRoutes: boolean;
  /** How long to wait for more changes before rendering. Default 100 ms. */
  readonly debounceMs?: number;
  readonly logger?: Logger;
  /** How BIRD is checked and reloaded (tests replace it). */
  readonly bird?: BirdControl;
}

export type ApplyOutcome = 'applied' | 'unchanged' | 'failed';

export interface ApplyResult {
  readonly outcome: ApplyOutcome;
  readonly stage?: ConfdStage;
  readonly error?: string;
}

export class Confd {
  private readonly log: Logger;
  private readonly bird: BirdControl;
  /** Applies run one at a time, in order. */
  private applying: Promise<unknown> = Promise.resolve();
  private closed = false;
  private applied: ConfdStatus['config'];
  /** The file is in place but BIRD has not taken it yet: reload again at the next apply. */
  private reloadPending = false;
  private results = 0;
  private last: ApplyResult | undefined;

  private readonly mirror: PrefixMirror;

  private constructor(
    private readonly options: ConfdOptions,
    mirrorFor: (confd: Confd) => PrefixMirror,
  ) {
    this.log = options.logger ?? silentLogger;
    this.bird = options.bird ?? birdCommands;
    this.applied = currentConfig(options.configFile);
    this.mirror = mirrorFor(this);
  }

  /** Starts watching; the first render follows the first complete snapshot of every input. */
  static start(options: ConfdOptions): Confd {
    return new Confd(options, (confd) =>
      PrefixMirror.watch({
        store: options.store,
        prefixes: inputPrefixes(options),
        debounceMs: options.debounceMs ?? 100,
        onChanged: () => confd.queueApply(),
        onError: (prefix, error) =>
          confd.log.error('datastore watch stopped', { prefix, error: error.message }),
      }),
    );
  }

  /** Lists every input once and applies the result: `margay-confd --once`. */
  static async once(options: ConfdOptions): Promise<ApplyResult> {
    const mirror = await PrefixMirror.listOnce(options.store, inputPrefixes(options));
    return new Confd(options, () => mirror).apply();
  }

  /** How many applies have finished, and how the last one went (for tests and health). */
  get progress(): { readonly applies: number; readonly last: ApplyResult | undefined } {
    return { applies: this.results, last: this.last };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.mirror.close();
    await this.applying;
  }

  private queueApply(): void {
    if (this.closed) return;
    this.applying = this.applying.then(() => this.apply());
  }

  /** Render, and if the text is new: check, write, reload. Never throws; reports instead. */
  private async apply(): Promise<ApplyResult> {
    const { configFile, birdSocket, nodeName } = this.options;
    const result = await this.attempt(configFile, birdSocket);
    this.results++;
    this.last = result;
    if (result.outcome === 'failed') {
      this.log.error('BIRD configuration not applied; BIRD keeps the previous one', {
        stage: result.stage,
        error: result.error,
        configFile,
      });
    } else if (result.outcome === 'applied') {
      this.log.info('BIRD configuration applied', { configFile, sha256: this.applied?.sha256 });
    }
    const status: ConfdStatus = {
      time: new Date().toISOString(),
      node: nodeName,
      ok: result.outcome !== 'failed',
      ...(result.stage ? { stage: result.stage, error: result.error } : {}),
      ...(this.applied ? { config: this.applied } : {}),
    };
    try {
      await writeConfdStatus(this.options.store, status);
    } catch (error) {
      this.log.warn('status not written', { error: (error as Error).message });
    }
    return result;
  }

  private async attempt(configFile: string, birdSocket: string | undefined): Promise<ApplyResult> {
    const failed = (stage: ConfdStage, error: unknown): ApplyResult => ({
      outcome: 'failed',
      stage,
      error: (error as Error).message,
    });
    let text: string;
    try {
      const secrets = await readSecrets(this.options.secretsDir);
      text = renderBird(this.options.templates, this.snapshot(secrets), {
        kernelRoutes: this.options.kernelRoutes,
      });
    } catch (error) {
      return failed('render', error);
    }
    const sha256 = digest(text);
    if (sha256 === this.applied?.sha256) {
      return this.reloadPending && birdSocket !== undefined
        ? this.reload(birdSocket)
        : { outcome: 'unchanged' };
    }

    // Staged beside the target, so that the rename is atomic and BIRD never reads half a file.
    const stage = join(dirname(configFile), `.${basename(configFile)}.margay-confd-${process.pid}`);
    try {
      await writeDurably(stage, text);
    } catch (error) {
      return failed('write', error);
    }
    try {
      await this.bird.check(stage);
    } catch (error) {
      await rm(stage, { force: true });
      return failed('check', error);
    }
    try {
      await rename(stage, configFile);
    } catch (error) {
      await rm(stage, { force: true });
      return failed('write', error);
    }
    this.applied = { file: configFile, sha256, since: new Date().toISOString() };
    return birdSocket === undefined ? { outcome: 'applied' } : this.reload(birdSocket);
  }

  private async reload(birdSocket: string): Promise<ApplyResult> {
    try {
      await this.bird.reload(birdSocket);
      this.reloadPending = false;
      return { outcome: 'applied' };
    } catch (error) {
      this.reloadPending = true;
      return { outcome: 'failed', stage: 'reload', error: (error as Error).message };
    }
  }

  private snapshot(secrets: ReadonlyMap<string, string>): ConfdSnapshot {
    const affinities = this.values('affinities');
    return {
      nodeName: this.options.nodeName,
      nodes: this.decoded<Node>('Node'),
      configurations: this.decoded<BGPConfiguration>('BGPConfiguration'),
      peers: this.decoded<BGPPeer>('BGPPeer'),
      pools: this.decoded<IPPool>('IPPool'),
      affineBlocks: [...affinities].flatMap(([key, value]) =>
        isConfirmedAffinity(value) ? [cidrOfKey(key)] : [],
      ),
      secrets,
    };
  }

  /** The stored resources of a kind; a corrupt one is logged and left out. */
  private decoded<R extends Resource>(input: Exclude<Input, 'affinities'> & Kind): R[] {
    return decodeResources<R>(this.values(input), (key, error) =>
      this.log.warn('ignoring a corrupt resource', { key, error: error.message }),
    );
  }

  /** Empty for an input no template uses: the mirror does not hold its prefix. */
  private values(input: Input): ReadonlyMap<string, string> {
    return this.mirror.values(inputPrefix(input, this.options.nodeName));
  }
}

function inputPrefix(input: Input, nodeName: string): string {
  return input === 'affinities' ? ipamKeys.affinities(nodeName) : resourcePrefix(input);
}

function inputPrefixes(options: ConfdOptions): string[] {
  return [...options.templates.uses].map((input) => inputPrefix(input, options.nodeName));
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The file BIRD already runs, so that a restarted margay-confd does not reload for nothing. */
function currentConfig(file: string): ConfdStatus['config'] {
  try {
    return { file, sha256: digest(readFileSync(file, 'utf8')), since: new Date().toISOString() };
  } catch {
    return undefined;
  }
}

async function writeDurably(file: string, text: string): Promise<void> {
  const handle = await open(file, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** DIR/<secret>/<key> files; hidden entries (a mounted volume's `..data` links) are skipped. */
export async function readSecrets(dir: string | undefined): Promise<Map<string, string>> {
  const secrets = new Map<string, string>();
  if (dir === undefined) return secrets;
  for (const secret of await readdir(dir, { withFileTypes: true })) {
    if (secret.name.startsWith('.') || !(secret.isDirectory() || secret.isSymbolicLink())) continue;
    let keys: string[];
    try {
      keys = await readdir(join(dir, secret.name));
    } catch {
      continue; // a plain file or a dangling link: not a secret
    }
    for (const key of keys.filter((k) => !k.startsWith('.'))) {
      const value = await readFile(join(dir, secret.name, key), 'utf8');
      // `echo pw > file` adds a newline that is not part of the password.
      secrets.set(`${secret.name}/${key}`, value.replace(/\r?\n$/, ''));
    }
  }
  return secrets;
}
