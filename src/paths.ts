import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The folder holding Manchete's package.json, found from this file whether it runs as TypeScript
 * (`src/`) or compiled (`dist/src/`): bundled files such as `templates/` are read from there.
 */
export function packageRoot(from: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(from));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'templates'))) return dir;
    dir = dirname(dir);
  }
  throw new Error(`cannot find Manchete's folder (package.json and templates/) above ${fileURLToPath(from)}`);
}
