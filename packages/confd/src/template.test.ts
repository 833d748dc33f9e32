import { parseTemplate, renderTemplate, TemplateError } from './template';

const render = (text: string, view: unknown, partials: Record<string, string> = {}) =>
  renderTemplate(
    parseTemplate('t.tmpl', text),
    view,
    new Map(Object.entries(partials).map(([name, body]) => [name, parseTemplate(`${name}.tmpl`, body)])),
  );

test('values, nested names and numbers', () => {
  expect(render('router id {{self.id}}; as {{as}};', { self: { id: '10.0.0.1' }, as: 64512 })).toBe(
    'router id 10.0.0.1; as 64512;',
  );
});

test('each resolves names on the item first, then outside; {{.}} is the item', () => {
  const text = '{{#each peers}}{{name}}@{{port}} {{/each}}|{{#each list}}<{{.}}>{{/each}}';
  expect(render(text, { port: 179, peers: [{ name: 'a' }, { name: 'b', port: 1790 }], list: [1, 2] })).toBe(
    'a@179 b@1790 |<1><2>',
  );
});

test('if, else and unless; empty lists, null and false are false', () => {
  const text = '{{#if a}}A{{else}}not A{{/if}} {{#unless b}}no B{{/unless}} {{#if c}}C{{/if}}';
  expect(render(text, { a: [], b: null, c: 'x' })).toBe('not A no B C');
  expect(render(text, { a: [1], b: true, c: false })).toBe('A  ');
});

test('block tags alone on a line take the line with them', () => {
  const text = 'start\n{{#each xs}}\n  item {{.}}\n{{/each}}\n{{! a comment }}\nend\n';
  expect(render(text, { xs: ['a', 'b'] })).toBe('start\n  item a\n  item b\nend\n');
});

test('partials render in the current scope', () => {
  expect(render('{{#each xs}}{{> item}}{{/each}}', { xs: [{ v: 1 }, { v: 2 }] }, { item: '[{{v}}]' })).toBe(
    '[1][2]',
  );
});

test('uses declarations are collected from comments', () => {
  expect(parseTemplate('t', '{{! what it is\n  uses: Node, BGPPeer IPPool }}x').uses).toEqual([
    'Node',
    'BGPPeer',
    'IPPool',
  ]);
});

test.each([
  ['{{missing}}', {}, 't.tmpl line 1: "missing" is not defined'],
  ['\n{{a.b}}', { a: {} }, 't.tmpl line 2: "a.b" is not defined'],
  ['{{xs}}', { xs: [1] }, 't.tmpl line 1: "xs" is not a single value'],
  ['{{x}}', { x: null }, 't.tmpl line 1: "x" is empty'],
  ['{{#each x}}{{/each}}', { x: 'no' }, 't.tmpl line 1: "x" is not a list'],
  ['{{> nowhere}}', {}, 't.tmpl line 1: no partial template "nowhere"'],
])('render error: %s', (text, view, message) => {
  expect(() => render(text, view)).toThrow(new TemplateError(message));
});

test.each([
  ['{{#if a}}', 't.tmpl line 1: {{#if}} is never closed'],
  ['{{#if a}}\n{{/each}}', 't.tmpl line 2: {{/each}} closes {{#if}} of line 1'],
  ['{{/if}}', 't.tmpl line 1: {{/if}} closes nothing'],
  ['{{#with a}}{{/with}}', 't.tmpl line 1: unknown block {{#with}} (use #each, #if or #unless)'],
  ['{{#each a}}{{else}}{{/each}}', 't.tmpl line 1: {{else}} outside {{#if}} or {{#unless}}'],
  ['{{#if}}{{/if}}', 't.tmpl line 1: {{#if}} needs a value name'],
  ['{{a b}}', 't.tmpl line 1: "{{a b}}" is not a value name'],
])('parse error: %s', (text, message) => {
  expect(() => parseTemplate('t.tmpl', text)).toThrow(new TemplateError(message));
});
