/** dagrun's version, from package.json (workers register it; /health shows it). */
import { readFileSync } from 'node:fs';

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export const DAGRUN_VERSION: string = manifest.version;
