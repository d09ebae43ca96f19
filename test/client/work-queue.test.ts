import t from 'tap';
import { WorkQueue } from '../../src/client/work-queue.js';

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('per-key dedup', async (t) => {
  const q = new WorkQueue<string>();
  q.add('a');
  q.add('b');
  q.add('a');
  t.equal(q.length, 2, 'a key added while queued is not duplicated');
  t.equal(await q.get(), 'a', 'FIFO');

  q.add('a');
  t.equal(q.length, 1, 'a key added while processing is not queued yet');
  q.add('a');
  t.equal(await q.get(), 'b');
  t.equal(q.length, 0);
  q.done('a');
  t.equal(q.length, 1, 'it is queued (once) when the worker is done');
  t.equal(await q.get(), 'a');
  q.done('a');
  q.done('b');
  t.equal(q.length, 0, 'done without a new add queues nothing');
});

t.test('a waiting worker gets a key as soon as it is added', async (t) => {
  const q = new WorkQueue<string>();
  const next = q.get();
  q.add('x');
  t.equal(await next, 'x');
  q.add('x');
  t.equal(q.length, 0, 'x is being processed: deferred');
  q.done('x');
  t.equal(await q.get(), 'x');
});

t.test('one key is never processed by two workers at once', async (t) => {
  const q = new WorkQueue<string>();
  let active = 0;
  let maxActive = 0;
  let runs = 0;
  const running = q.run(4, async () => {
    active++;
    maxActive = Math.max(maxActive, active);
    runs++;
    await tick(5);
    active--;
  });
  for (let i = 0; i < 10; i++) {
    q.add('k');
    await tick(1);
  }
  await tick(30);
  q.shutDown();
  await running;
  t.equal(maxActive, 1, 'never concurrently');
  t.ok(runs >= 2 && runs <= 10, `adds during processing were coalesced (${runs} runs for 10 adds)`);
});

t.test('exponential per-key back-off, capped, jittered, reset by forget', async (t) => {
  const q = new WorkQueue<string>({ qps: Infinity, random: () => 0 });
  const delays = Array.from({ length: 16 }, () => q.when('a'));
  t.same(delays.slice(0, 5), [5, 10, 20, 40, 80], 'doubling from 5 ms');
  t.equal(delays[14], 60_000, 'capped at 60 s');
  t.equal(delays[15], 60_000);
  t.equal(q.numRequeues('a'), 16);
  t.equal(q.when('b'), 5, 'per key');
  q.forget('a');
  t.equal(q.numRequeues('a'), 0);
  t.equal(q.when('a'), 5, 'forget starts over');

  const jittered = new WorkQueue<string>({ qps: Infinity, random: () => 0.999 });
  const first = jittered.when('a');
  t.ok(first > 5 && first < 5.5, `jitter stretches by up to 10% (${first})`);
  for (let i = 0; i < 20; i++) jittered.when('a');
  t.equal(jittered.when('a'), 60_000, 'jitter never passes the cap');
});

t.test('overall token bucket', async (t) => {
  let now = 0;
  const q = new WorkQueue<string>({ qps: 1, burst: 2, random: () => 0, now: () => now });
  t.equal(q.when('a'), 5);
  t.equal(q.when('b'), 5, 'within the burst the per-key delay rules');
  t.equal(q.when('c'), 1_000, 'past the burst: the bucket makes it wait');
  now = 10_000;
  t.equal(q.when('d'), 5, 'the bucket refills');
});

t.test('addRateLimited really waits, addAfter keeps the earliest time', async (t) => {
  const q = new WorkQueue<string>({ baseDelayMs: 40, jitter: 0, qps: Infinity });
  const started = Date.now();
  q.addRateLimited('a');
  t.equal(q.length, 0, 'not queued yet');
  t.equal(await q.get(), 'a');
  t.ok(Date.now() - started >= 35, 'after the back-off');
  q.done('a');

  const begin = Date.now();
  q.addAfter('b', 500);
  q.addAfter('b', 20);
  q.addAfter('b', 300);
  t.equal(await q.get(), 'b');
  t.ok(Date.now() - begin < 250, 'the earliest delay won');
  q.done('b');
  await tick(600);
  t.equal(q.length, 0, 'the later delays did not queue it again');
});

t.test('run(): failures retry with back-off until success, results requeue as asked', async (t) => {
  const q = new WorkQueue<string>({ baseDelayMs: 2, qps: Infinity });
  const seen: string[] = [];
  const errors: string[] = [];
  let failuresLeft = 3;
  let again = true;
  const running = q.run(
    2,
    async (key) => {
      seen.push(key);
      if (key === 'flaky' && failuresLeft-- > 0) throw new Error('not yet');
      if (key === 'again' && again) {
        again = false;
        return { requeueAfterMs: 10 };
      }
      return undefined;
    },
    (key, err) => errors.push(`${key}: ${(err as Error).message}`),
  );
  q.add('flaky');
  q.add('again');
  await tick(200);
  t.same(seen.filter((k) => k === 'flaky').length, 4, 'three failures, then success');
  t.equal(errors.length, 3, 'each failure reported');
  t.equal(q.numRequeues('flaky'), 0, 'success forgets the failures');
  t.same(seen.filter((k) => k === 'again').length, 2, 'requeueAfterMs ran it once more');
  q.shutDown();
  await running;
});

t.test('shutDown', async (t) => {
  const q = new WorkQueue<string>();
  const waiting = q.get();
  q.addAfter('later', 20);
  q.add('queued-then-dropped');
  t.equal(await waiting, 'queued-then-dropped');
  q.add('pending');
  q.shutDown();
  t.equal(q.isShuttingDown, true);
  t.equal(await q.get(), undefined, 'get resolves undefined after shutdown');
  q.add('ignored');
  t.equal(q.length, 0, 'adds are ignored, queued keys dropped');
  await tick(40);
  t.equal(q.length, 0, 'delayed keys are dropped');

  const q2 = new WorkQueue<string>();
  const blocked = [q2.get(), q2.get()];
  q2.shutDown();
  t.same(await Promise.all(blocked), [undefined, undefined], 'every waiting worker is woken');

  const q3 = new WorkQueue<string>();
  let finished = false;
  const running = q3.run(1, async () => {
    await tick(30);
    finished = true;
  });
  q3.add('slow');
  await tick(5);
  await q3.shutDownAndDrain();
  t.ok(finished, 'shutDownAndDrain waits for the key in progress');
  await running;
  t.pass('run() returns after shutdown');
});
