// Loads a template directory and renders BIRD's configuration from a snapshot. The directory is
// packages/confd/templates unless the operator points --templates at a copy of their own.

import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseTemplate, renderTemplate, type Template, TemplateError } from './template';
import { type BirdView, birdView, type ConfdSnapshot, type ViewOptions } from './view';

/** The template the configuration is rendered from; it includes the others as partials. */
export const MAIN_TEMPLATE = 'bird.cfg.tmpl';

/** What a template may declare in `{{! uses: … }}`: the inputs margay-confd watches. */
export const INPUTS = ['Node', 'BGPPeer', 'BGPConfiguration', 'IPPool', 'affinities'] as const;
export type Input = (typeof INPUTS)[number];

export interface TemplateSet {
  readonly dir: string;
  readonly main: Template;
  readonly partials: ReadonlyMap<string, Template>;
  /** The union of what the templates declare they use. */
  readonly uses: ReadonlySet<Input>;
}

/** The templates shipped with margay-confd (beside dist/ and src/). */
export function defaultTemplateDir(): string {
  return resolve(__dirname, '..', 'templates');
}

/** Reads every `*.tmpl` of `dir`; throws naming the file of any template that does not parse. */
export function loadTemplates(dir: string): TemplateSet {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.tmpl'));
  } catch (error) {
    throw new TemplateError(`templates directory ${dir}: ${(error as Error).message}`);
  }
  if (!files.includes(MAIN_TEMPLATE))
    throw new TemplateError(`templates directory ${dir} has no ${MAIN_TEMPLATE}`);
  const partials = new Map<string, Template>();
  const uses = new Set<Input>();
  let main: Template | undefined;
  for (const file of files.sort()) {
    const template = parseTemplate(file, readFileSync(join(dir, file), 'utf8'));
    for (const input of template.uses) {
      if (!(INPUTS as readonly string[]).includes(input)) {
        throw new TemplateError(`${file}: uses "${input}", which is not one of ${INPUTS.join(', ')}`);
      }
      uses.add(input as Input);
    }
    if (file === MAIN_TEMPLATE) main = template;
    else partials.set(basename(file, '.tmpl'), template);
  }
  return { dir, main: main!, partials, uses };
}

/**
 * BIRD's configuration for `snapshot`: a pure function of the templates and the snapshot. Inputs
 * the templates do not declare are hidden from them, so that what they declare is what they get.
 */
export function renderBird(templates: TemplateSet, snapshot: ConfdSnapshot, options: ViewOptions): string {
  const has = (input: Input) => templates.uses.has(input);
  const visible: ConfdSnapshot = {
    ...snapshot,
    nodes: has('Node') ? snapshot.nodes : [],
    peers: has('BGPPeer') ? snapshot.peers : [],
    configurations: has('BGPConfiguration') ? snapshot.configurations : [],
    pools: has('IPPool') ? snapshot.pools : [],
    affineBlocks: has('affinities') ? snapshot.affineBlocks : [],
  };
  const view: BirdView = birdView(visible, options);
  return renderTemplate(templates.main, view, templates.partials);
}
