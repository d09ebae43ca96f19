import { existsSync, realpathSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

/**
 * The machine's kubectl binaries: `kubectl` on PATH is a dispatcher; `kubectl.1.NN` for each minor
 * sit beside the file it links to. Returns the path of `kubectl.<minor>` or throws (tests must
 * fail, not skip, when kubectl is missing).
 */
export function kubectlPath(minor: string): string {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const direct = join(dir, `kubectl.${minor}`);
    if (existsSync(direct)) return direct;
    const dispatcher = join(dir, 'kubectl');
    if (existsSync(dispatcher)) {
      const beside = join(dirname(realpathSync(dispatcher)), `kubectl.${minor}`);
      if (existsSync(beside)) return beside;
    }
  }
  throw new Error(`kubectl.${minor} not found on PATH or beside the kubectl dispatcher`);
}
