import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { RunningMember } from './member.js';

/**
 * The members' fault-injection endpoint: plain HTTP, loopback only, for tests and demos.
 *
 *   GET  /members                              every member: name, url, kubeconfig, paused, ready
 *   POST /members/<name>/pause                 drop every connection and refuse new ones
 *   POST /members/<name>/resume                answer again
 *   POST /members/<name>/not-ready             /readyz answers 500 and the nodes turn NotReady
 *   POST /members/<name>/ready                 back to Ready
 *   POST /members/<name>/remove-nodes?count=N  delete N nodes (and their pods)
 */
export async function startAdminServer(members: ReadonlyMap<string, RunningMember>, host: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    handle(members, req, res).catch((err: unknown) => reply(res, 500, { error: err instanceof Error ? err.message : String(err) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${actualPort}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const describe = (m: RunningMember) => ({ name: m.name, url: m.url, kubeconfig: m.kubeconfigPath, paused: m.paused, ready: m.ready });

async function handle(members: ReadonlyMap<string, RunningMember>, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://admin');
  const parts = url.pathname.split('/').filter(Boolean);
  if (parts[0] !== 'members') return reply(res, 404, { error: 'not found' });
  if (parts.length === 1 && req.method === 'GET') return reply(res, 200, [...members.values()].map(describe));
  const member = parts[1] !== undefined ? members.get(parts[1]) : undefined;
  if (!member) return reply(res, 404, { error: `no member named ${parts[1] ?? ''}` });
  if (parts.length === 2 && req.method === 'GET') return reply(res, 200, describe(member));
  if (parts.length !== 3 || req.method !== 'POST') return reply(res, 405, { error: 'use POST /members/<name>/<action>' });
  switch (parts[2]) {
    case 'pause':
      member.pause();
      return reply(res, 200, describe(member));
    case 'resume':
      member.resume();
      return reply(res, 200, describe(member));
    case 'not-ready':
      await member.setReady(false);
      return reply(res, 200, describe(member));
    case 'ready':
      await member.setReady(true);
      return reply(res, 200, describe(member));
    case 'remove-nodes': {
      const count = Number(url.searchParams.get('count') ?? '1');
      if (!Number.isInteger(count) || count < 1) return reply(res, 400, { error: 'count must be a positive integer' });
      return reply(res, 200, { ...describe(member), removedNodes: await member.removeNodes(count) });
    }
    default:
      return reply(res, 404, { error: `unknown action ${parts[2]}; one of pause, resume, not-ready, ready, remove-nodes` });
  }
}

function reply(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'Content-Type': 'application/json' });
  res.end(`${JSON.stringify(body)}\n`);
}
