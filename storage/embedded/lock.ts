import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * One process per data dir: a LOCK file holding the owner's pid, created exclusively. A lock left
 * by a process that no longer runs (killed, crashed) is taken over.
 */
export class DataDirLockedError extends Error {
  constructor(dir: string, pid: number) {
    super(`data dir ${dir} is in use by process ${pid}`);
    this.name = 'DataDirLockedError';
  }
}

export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const path = join(dir, 'LOCK');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      return async () => {
        await unlink(path).catch(() => undefined);
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number((await readFile(path, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(owner) && owner > 0 && (owner === process.pid || isRunning(owner))) {
        throw new DataDirLockedError(dir, owner);
      }
      await unlink(path).catch(() => undefined);
    }
  }
  throw new Error(`could not lock data dir ${dir}`);
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
