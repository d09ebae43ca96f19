/**
 * /version: kube's Version object. The minor decides which client the machine's kubectl dispatcher
 * runs, so Flotilla reports the Kubernetes API level it implements (1.31) and names itself in the
 * build metadata.
 */
export const KUBERNETES_VERSION = { major: '1', minor: '31', patch: 0 };
export const FLOTILLA_VERSION = '0.1.0';

export function serverVersion(): Record<string, string> {
  return {
    major: KUBERNETES_VERSION.major,
    minor: KUBERNETES_VERSION.minor,
    gitVersion: `v${KUBERNETES_VERSION.major}.${KUBERNETES_VERSION.minor}.${KUBERNETES_VERSION.patch}+flotilla.${FLOTILLA_VERSION}`,
    gitCommit: 'flotilla',
    gitTreeState: 'clean',
    buildDate: '2026-11-22T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'tsc',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}
