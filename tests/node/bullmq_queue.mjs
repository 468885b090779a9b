// A real job queue on shardis-server: BullMQ (ioredis underneath) runs everything through
// Lua scripts that build key names of their own (undeclared keys on any shard), streams for
// its events, blocking pops and delayed jobs. 20 jobs complete with their results, one fails
// as it should, a delayed job runs after its delay, and the counts agree.
import { Queue, Worker } from 'bullmq';

const connection = { host: '127.0.0.1', port: Number(process.env.SHARDIS_PORT || 6379) };
const fail = (msg) => { console.error(`bullmq: ${msg}`); process.exit(1); };

const queue = new Queue('emails', { connection });
await queue.obliterate({ force: true });
const results = [];
let settled = 0;
const TOTAL = 22;
const worker = new Worker('emails', async (job) => {
  if (job.data.fail) throw new Error('boom');
  return job.data.n * 2;
}, { connection, concurrency: 4 });
const done = new Promise((resolve) => {
  const one = () => { if (++settled === TOTAL) resolve(); };
  worker.on('completed', (job, value) => { results.push(value); one(); });
  worker.on('failed', one);
});

for (let n = 0; n < 20; n++) await queue.add('send', { n });
await queue.add('send', { fail: true }, { attempts: 1 });
const t0 = Date.now();
await queue.add('later', { n: 100 }, { delay: 300 });

const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 30000));
await Promise.race([done, timeout]).catch((e) => fail(`${e.message}: ${settled} of ${TOTAL} jobs settled`));
if (Date.now() - t0 < 300) fail('the delayed job ran before its delay');

results.sort((a, b) => a - b);
const expected = [...Array(20).keys()].map((n) => n * 2).concat([200]);
if (JSON.stringify(results) !== JSON.stringify(expected)) fail(`results ${JSON.stringify(results)}`);
const counts = await queue.getJobCounts('completed', 'failed', 'waiting', 'active', 'delayed');
const want = { completed: 21, failed: 1, waiting: 0, active: 0, delayed: 0 };
for (const [k, v] of Object.entries(want)) {
  if (counts[k] !== v) fail(`counts ${JSON.stringify(counts)}`);
}
const failed = await queue.getFailed();
if (failed.length !== 1 || failed[0].failedReason !== 'boom') fail('the failed job lost its reason');

await worker.close();
await queue.close();
console.log(`bullmq: ok (${counts.completed} completed, ${counts.failed} failed)`);
process.exit(0);
