/**
 * The committed routes and OpenAPI document are what tsoa generates from the controllers today:
 * generate again into a sibling folder (so relative imports are the same) and compare.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = new URL('../../../', import.meta.url).pathname;

describe('generated API files', () => {
  it('are up to date (else run npm run api:generate)', async () => {
    const config = JSON.parse(readFileSync(join(root, 'tsoa.json'), 'utf8'));
    const checkDir = `src/api/generated-check-${process.pid}`;
    config.spec.outputDirectory = checkDir;
    config.routes.routesDir = checkDir;
    const configDir = mkdtempSync(join(tmpdir(), 'dagrun-tsoa-'));
    const configFile = join(configDir, 'tsoa.json');
    writeFileSync(configFile, JSON.stringify(config));
    try {
      await promisify(execFile)(
        process.execPath,
        [join(root, 'node_modules/@tsoa/cli/dist/cli.js'), 'spec-and-routes', '-c', configFile],
        {
          cwd: root,
        },
      );
      for (const file of ['routes.ts', 'openapi.json']) {
        expect(readFileSync(join(root, checkDir, file), 'utf8'), file).toBe(
          readFileSync(join(root, 'src/api/generated', file), 'utf8'),
        );
      }
    } finally {
      rmSync(join(root, checkDir), { recursive: true, force: true });
      rmSync(configDir, { recursive: true, force: true });
    }
  }, 60_000);
});
