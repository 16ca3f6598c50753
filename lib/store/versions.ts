import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Versions {
  readonly optbench: string | null;
  readonly tfjs: string | null;
  readonly node: string;
}

const readVersion = (file: string, name?: string): string | null => {
  try {
    const p = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
    return (name === undefined || p.name === name) && typeof p.version === 'string' ? p.version : null;
  } catch {
    return null;
  }
};

/** optbench's own package.json, found upwards from this module (lib/store in source, dist/lib/store when built). */
const optbenchVersion = (): string | null => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const v = readVersion(join(dir, 'package.json'), 'optbench');
    if (v !== null) return v;
    dir = dirname(dir);
  }
  return null;
};

const tfjsVersion = (): string | null => {
  try {
    return readVersion(createRequire(import.meta.url).resolve('@tensorflow/tfjs/package.json'));
  } catch {
    return null;
  }
};

let cached: Versions | undefined;

/** The versions recorded with every run, read once (without loading TF.js). */
export const libraryVersions = (): Versions =>
  (cached ??= { optbench: optbenchVersion(), tfjs: tfjsVersion(), node: process.versions.node });
