import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testNode, testPeer } from '@margay/api';
import { makeTempDir, removeTempDir } from '@margay/testkit';
import { defaultTemplateDir, INPUTS, loadTemplates, renderBird } from './render';
import { TemplateError } from './template';

let dir = '';
beforeEach(() => {
  dir = makeTempDir('confd-templates');
});
afterEach(() => removeTempDir(dir));

function templateDir(files: Record<string, string>): string {
  const path = join(dir, 't');
  mkdirSync(path);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(path, name), text);
  return path;
}

test('the shipped templates declare every input', () => {
  expect([...loadTemplates(defaultTemplateDir()).uses].sort()).toEqual([...INPUTS].sort());
});

test('a template only sees the inputs it declares', () => {
  const snapshot = {
    nodeName: 'n1',
    nodes: [testNode('n1', { ipv4Address: '10.0.0.1/24' })],
    configurations: [],
    peers: [testPeer('tor', { peerIP: '10.0.0.9', asNumber: 65001 })],
    affineBlocks: [],
    pools: [],
    secrets: new Map(),
  };
  const text = '{{! uses: Node }}{{#each peers}}{{address}} {{/each}}|{{routerId}}';
  const blind = loadTemplates(templateDir({ 'bird.cfg.tmpl': text }));
  expect(renderBird(blind, snapshot, { kernelRoutes: false })).toBe('|10.0.0.1');
  const seeing = { ...blind, uses: new Set([...blind.uses, 'BGPPeer' as const]) };
  expect(renderBird(seeing, snapshot, { kernelRoutes: false })).toBe('10.0.0.9 |10.0.0.1');
});

test.each([
  [{ 'other.tmpl': 'x' }, /has no bird\.cfg\.tmpl/],
  [
    { 'bird.cfg.tmpl': '{{! uses: Pods }}' },
    /bird\.cfg\.tmpl: uses "Pods", which is not one of Node, BGPPeer/,
  ],
  [{ 'bird.cfg.tmpl': 'x', 'bad.tmpl': '{{#if a}}' }, /bad\.tmpl line 1: \{\{#if\}\} is never closed/],
])('a broken template directory is an error naming the file: %j', (files, message) => {
  expect(() => loadTemplates(templateDir(files))).toThrow(TemplateError);
  expect(() => loadTemplates(join(dir, 't'))).toThrow(message);
});

test('a missing directory is an error naming it', () => {
  expect(() => loadTemplates(join(dir, 'nowhere'))).toThrow(`templates directory ${join(dir, 'nowhere')}`);
});
