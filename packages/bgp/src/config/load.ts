// Reads the configuration file: YAML syntax errors and schema errors alike come back as a
// ConfigError whose lines name the file (and line, or field path).

import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError, type DaemonConfig, validateConfig } from './schema';

export function parseConfig(text: string, source: string): DaemonConfig {
  const document = parseDocument(text);
  if (document.errors.length > 0) {
    throw new ConfigError(
      document.errors.map(
        (e) => `${source}: line ${e.linePos?.[0].line ?? '?'}: ${e.message.split('\n')[0]}`,
      ),
    );
  }
  return validateConfig(document.toJS(), source);
}

export async function loadConfig(file: string): Promise<DaemonConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError([`${file}: cannot read: ${(error as Error).message}`]);
  }
  return parseConfig(text, basename(file));
}
