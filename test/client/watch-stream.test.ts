import t from 'tap';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { HttpClient } from '../../src/client/client.js';
import { ensurePki } from '../../src/server/pki.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * The HTTP client's watch stream: a line that is not a watch event ends the stream with an error
 * (the watcher then resumes from the last event it got) instead of being dropped without a word —
 * a dropped line is a lost event.
 */
t.test('a line that is not a watch event ends the stream with an error', async (t) => {
  const dir = await tempDir('watch-stream');
  const pki = await ensurePki(dir.path, { sans: [] });
  const server = createServer({ cert: pki.servingCertPem, key: pki.servingKeyPem }, (_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write('{"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"5"}}}\n');
    res.write('{"type":"MODIFIED","object":{"kind":"ConfigMap","metada\n');
    res.write('{"type":"MODIFIED","object":{"kind":"ConfigMap","metadata":{"name":"a","resourceVersion":"7"}}}\n');
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = new HttpClient({ server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, caPem: pki.caCertPem });
  t.teardown(async () => {
    client.close();
    await new Promise((resolve) => server.close(resolve));
    await dir.remove();
  });

  const seen: string[] = [];
  let failure: unknown;
  try {
    for await (const event of client.watch('/api/v1/configmaps')) seen.push(`${event.type} ${event.object.metadata.resourceVersion ?? ''}`);
  } catch (err) {
    failure = err;
  }
  t.same(seen, ['ADDED 5'], 'the events before the bad line are delivered, none after it');
  t.match(String(failure), /not JSON/, 'the stream ends with an error naming the bad line');
});
