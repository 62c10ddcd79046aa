// A minimal Alertmanager webhook receiver for the compose stack: prints every notification it
// gets as one JSON line on stdout (docker compose logs alert-log), so alerts visibly reach a
// receiver before a real one (pager, chat, e-mail) is configured. Plain Node, no dependencies.
import { createServer } from 'node:http';

const port = Number(process.argv[2] ?? 9095);
const server = createServer((req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(req.url === '/health' ? 200 : 405).end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    try {
      const n = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      for (const a of n.alerts ?? []) {
        process.stdout.write(
          JSON.stringify({ time: new Date().toISOString(), status: a.status, alert: a.labels?.alertname, severity: a.labels?.severity, labels: a.labels, summary: a.annotations?.summary }) + '\n',
        );
      }
      res.writeHead(200).end();
    } catch (err) {
      process.stderr.write(`alert-log: not an Alertmanager notification: ${err.message}\n`);
      res.writeHead(400).end();
    }
  });
});
server.listen(port, '0.0.0.0', () => process.stderr.write(`alert-log: listening on ${port}\n`));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
