// A deliberately small mustache-like template language, so that operators can read and override
// the BIRD templates without learning a programming language:
//
//   {{path.to.value}}              the value (a string, number or boolean; anything else is an error)
//   {{#each list}}…{{/each}}       once per item; inside, names resolve on the item first, {{.}} is the item
//   {{#if x}}…{{else}}…{{/if}}     false, null, 0, "" and [] are false
//   {{#unless x}}…{{/unless}}
//   {{> name}}                     the partial template `name.tmpl` from the same directory
//   {{! comment }}                 dropped; `{{! uses: Node BGPPeer }}` declares the template's inputs
//
// A tag alone on its line (other than a value) takes the line with it, so templates can be laid out
// one directive per line without leaving blank lines behind. Names that are not defined are errors
// naming the template and line: a typo in an override must not silently render an empty setting.

export class TemplateError extends Error {
  override name = 'TemplateError';
}

type Block = 'each' | 'if' | 'unless';

type TemplateNode =
  | { readonly type: 'text'; readonly text: string }
  | { readonly type: 'value'; readonly path: string; readonly line: number }
  | { readonly type: 'partial'; readonly name: string; readonly line: number }
  | {
      readonly type: 'block';
      readonly block: Block;
      readonly path: string;
      readonly line: number;
      readonly body: TemplateNode[];
      readonly otherwise: TemplateNode[];
    };

export interface Template {
  readonly name: string;
  /** What the template declares it reads (`{{! uses: … }}`). */
  readonly uses: readonly string[];
  readonly nodes: readonly TemplateNode[];
}

interface Tag {
  readonly kind: '#' | '/' | '!' | '>' | 'else' | 'value';
  readonly word: string;
  readonly argument: string;
  readonly body: string;
  readonly start: number;
  readonly end: number;
  readonly line: number;
}

const TAG = /\{\{\s*([#/!>]?)\s*([\s\S]*?)\s*\}\}/g;

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Tags with their extent widened to the whole line when they stand alone on it. */
function scanTags(text: string): Tag[] {
  const tags: Tag[] = [];
  for (const match of text.matchAll(TAG)) {
    const sigil = match[1] as '' | '#' | '/' | '!' | '>';
    const body = match[2]!;
    const [word = '', ...rest] = body.split(/\s+/);
    const kind = sigil === '' ? (body === 'else' ? 'else' : 'value') : sigil;
    let start = match.index;
    let end = start + match[0].length;
    if (kind !== 'value') {
      const lineStart = text.lastIndexOf('\n', start - 1) + 1;
      const newline = text.indexOf('\n', end);
      const lineEnd = newline < 0 ? text.length : newline + 1;
      if (/^[ \t]*$/.test(text.slice(lineStart, start)) && /^[ \t]*\r?\n?$/.test(text.slice(end, lineEnd))) {
        start = lineStart;
        end = lineEnd;
      }
    }
    tags.push({ kind, word, argument: rest.join(' '), body, start, end, line: lineAt(text, match.index) });
  }
  return tags;
}

/** Parses a template; `name` is how errors refer to it (usually its file name). */
export function parseTemplate(name: string, text: string): Template {
  const uses: string[] = [];
  const root: TemplateNode[] = [];
  interface Frame {
    block: Block;
    line: number;
    body: TemplateNode[];
    otherwise: TemplateNode[];
    inElse: boolean;
  }
  const stack: Frame[] = [];
  const fail = (line: number, message: string) => new TemplateError(`${name} line ${line}: ${message}`);
  const current = (): TemplateNode[] => {
    const top = stack[stack.length - 1];
    return top ? (top.inElse ? top.otherwise : top.body) : root;
  };
  let offset = 0;
  for (const tag of scanTags(text)) {
    if (tag.start > offset) current().push({ type: 'text', text: text.slice(offset, tag.start) });
    offset = tag.end;
    switch (tag.kind) {
      case '!': {
        // A line of the comment that starts with `uses:`.
        const declared = /(?:^|\n)\s*uses:\s*([^\n]*)/.exec(tag.body);
        if (declared) uses.push(...declared[1]!.split(/[\s,]+/).filter(Boolean));
        break;
      }
      case 'value':
        if (tag.argument !== '')
          throw fail(tag.line, `"{{${tag.word} ${tag.argument}}}" is not a value name`);
        current().push({ type: 'value', path: tag.word, line: tag.line });
        break;
      case '>':
        current().push({ type: 'partial', name: tag.word, line: tag.line });
        break;
      case '#': {
        if (tag.word !== 'each' && tag.word !== 'if' && tag.word !== 'unless') {
          throw fail(tag.line, `unknown block {{#${tag.word}}} (use #each, #if or #unless)`);
        }
        if (!tag.argument) throw fail(tag.line, `{{#${tag.word}}} needs a value name`);
        const frame: Frame = { block: tag.word, line: tag.line, body: [], otherwise: [], inElse: false };
        current().push({
          type: 'block',
          block: tag.word,
          path: tag.argument,
          line: tag.line,
          body: frame.body,
          otherwise: frame.otherwise,
        });
        stack.push(frame);
        break;
      }
      case 'else': {
        const top = stack[stack.length - 1];
        if (!top || top.block === 'each' || top.inElse)
          throw fail(tag.line, '{{else}} outside {{#if}} or {{#unless}}');
        top.inElse = true;
        break;
      }
      case '/': {
        const top = stack.pop();
        if (!top) throw fail(tag.line, `{{/${tag.word}}} closes nothing`);
        if (top.block !== tag.word) {
          throw fail(tag.line, `{{/${tag.word}}} closes {{#${top.block}}} of line ${top.line}`);
        }
        break;
      }
    }
  }
  const open = stack.pop();
  if (open) throw fail(open.line, `{{#${open.block}}} is never closed`);
  if (offset < text.length) root.push({ type: 'text', text: text.slice(offset) });
  return { name, uses, nodes: root };
}

const NOT_FOUND = Symbol('not found');

function lookup(scopes: readonly unknown[], path: string): unknown {
  if (path === '.') return scopes[scopes.length - 1];
  const [first, ...rest] = path.split('.');
  for (let i = scopes.length - 1; i >= 0; i--) {
    const scope = scopes[i];
    if (typeof scope === 'object' && scope !== null && Object.hasOwn(scope, first!)) {
      let value: unknown = (scope as Record<string, unknown>)[first!];
      for (const key of rest) {
        if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) return NOT_FOUND;
        value = (value as Record<string, unknown>)[key];
      }
      return value;
    }
  }
  return NOT_FOUND;
}

function truthy(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : Boolean(value);
}

/**
 * Renders `template` over `view`. Pure: the output depends on the template, its partials and the
 * view only. Throws a TemplateError naming the template and line of any name it cannot resolve.
 */
export function renderTemplate(
  template: Template,
  view: unknown,
  partials: ReadonlyMap<string, Template> = new Map(),
): string {
  const out: string[] = [];
  const walk = (owner: Template, nodes: readonly TemplateNode[], scopes: unknown[], depth: number): void => {
    const fail = (line: number, message: string) =>
      new TemplateError(`${owner.name} line ${line}: ${message}`);
    const resolve = (path: string, line: number): unknown => {
      const value = lookup(scopes, path);
      if (value === NOT_FOUND) throw fail(line, `"${path}" is not defined`);
      return value;
    };
    for (const node of nodes) {
      switch (node.type) {
        case 'text':
          out.push(node.text);
          break;
        case 'value': {
          const value = resolve(node.path, node.line);
          if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
            throw fail(node.line, `"${node.path}" is ${value === null ? 'empty' : 'not a single value'}`);
          }
          out.push(String(value));
          break;
        }
        case 'partial': {
          const partial = partials.get(node.name);
          if (!partial) throw fail(node.line, `no partial template "${node.name}"`);
          if (depth > 20)
            throw fail(node.line, `partials nested too deep (is "${node.name}" including itself?)`);
          walk(partial, partial.nodes, scopes, depth + 1);
          break;
        }
        case 'block': {
          const value = resolve(node.path, node.line);
          if (node.block === 'each') {
            if (!Array.isArray(value)) throw fail(node.line, `"${node.path}" is not a list`);
            for (const item of value) walk(owner, node.body, [...scopes, item], depth);
          } else {
            const chosen = truthy(value) === (node.block === 'if') ? node.body : node.otherwise;
            walk(owner, chosen, scopes, depth);
          }
          break;
        }
      }
    }
  };
  walk(template, template.nodes, [view], 0);
  return out.join('');
}
