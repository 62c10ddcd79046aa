// Baseline B: the seed's synchronous flow as one plain HTTP handler per request: insert the history
// row, look up presence, publish or insert the offline row, answer. No queue, no batching.
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { createPool } from '@im/db';

const port = Number(process.env.NAIVE_PORT);
const pool = createPool({ url: process.env.MYSQL_URL!, size: 10 });
const redis = new Redis(process.env.REDIS_URL!);
let nextId = BigInt(Date.now()) << 22n;

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    void (async () => {
      try {
        const m = JSON.parse(Buffer.concat(chunks).toString());
        const id = (nextId += 1n).toString();
        const now = Date.now();
        const [lo, hi] = BigInt(m.sender_id) < BigInt(m.receiver_id) ? [m.sender_id, m.receiver_id] : [m.receiver_id, m.sender_id];
        await pool.execute(
          'INSERT INTO message_history (message_id, conversation, seq, sender_id, receiver_id, message_type, content, client_msg_id, created_at) VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?)',
          [id, `s:${lo}:${hi}`, m.sender_id, m.receiver_id, 'text', m.content, m.client_msg_id ?? null, now],
        );
        const online = await redis.get(`im:presence:${m.receiver_id}`);
        const payload = JSON.stringify({ event: 'message', message_id: id, sender_id: m.sender_id, receiver_id: m.receiver_id, content: m.content, timestamp: now });
        const heard = online ? await redis.publish(`user:${m.receiver_id}`, payload) : 0;
        if (heard === 0) await pool.execute('INSERT INTO offline_message (user_id, message_id, created_at) VALUES (?, ?, ?)', [m.receiver_id, id, now]);
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message_id: id, timestamp: now }));
      } catch (err) {
        res.writeHead(500);
        res.end(String(err));
      }
    })();
  });
});
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => {
  server.close();
  void pool.end();
  redis.disconnect();
  process.exit(0);
});
