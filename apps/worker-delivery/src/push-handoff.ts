import { conversationOf, JOB_NAMES, jobIds, type AcceptedMessage, type PushDevice, type PushItem, type PushJob } from '@im/contracts';
import type { Topology } from '@im/redis';
import type { TypedQueue } from '@im/worker-kit';

/** Devices per push job: a 10,000-member group that is offline is 20 jobs, each message carried once per job. */
export const PUSH_JOB_DEVICES = 500;

/**
 * The push jobs of a round's offline deliveries: grouped by the shard of their conversation (the
 * push queue is sharded like the pipeline's), each message once per job with its devices, up to
 * PUSH_JOB_DEVICES devices a job. Job ids come from the content, so a retried delivery that ends
 * the same adds nothing.
 */
export function pushJobs(items: readonly PushItem[], topo: Pick<Topology, 'of'>): { shard: number; jobs: { name: 'push'; data: PushJob; opts: { jobId: string } }[] }[] {
  const byShard = new Map<number, Map<string, { message: AcceptedMessage; devices: PushDevice[] }>>();
  for (const i of items) {
    const shard = topo.of(conversationOf(i.message)).index;
    let messages = byShard.get(shard);
    if (!messages) byShard.set(shard, (messages = new Map()));
    let entry = messages.get(i.message.message_id);
    if (!entry) messages.set(i.message.message_id, (entry = { message: i.message, devices: [] }));
    entry.devices.push({ user_id: i.user_id, device_id: i.device_id });
  }
  const out: ReturnType<typeof pushJobs> = [];
  for (const [shard, messages] of byShard) {
    const jobs: ReturnType<typeof pushJobs>[number]['jobs'] = [];
    let current: { message: AcceptedMessage; devices: PushDevice[] }[] = [];
    let size = 0;
    const close = () => {
      if (current.length === 0) return;
      const deliveries = current;
      jobs.push({ name: JOB_NAMES['im.push'], data: { deliveries }, opts: { jobId: jobIds.pushDeliveries(deliveries.map((d) => ({ message_id: d.message.message_id, devices: d.devices }))) } });
      current = [];
      size = 0;
    };
    for (const { message, devices } of messages.values()) {
      for (let i = 0; i < devices.length; ) {
        const take = devices.slice(i, i + (PUSH_JOB_DEVICES - size));
        current.push({ message, devices: take });
        size += take.length;
        i += take.length;
        if (size >= PUSH_JOB_DEVICES) close();
      }
    }
    close();
    out.push({ shard, jobs });
  }
  return out;
}

/**
 * Delivery's push hand-off: adds the push jobs of a round's offline deliveries to their shards'
 * im.push queues, giving up after `timeoutMs` (the deliveries are stored; a push queue that does
 * not answer must not hold them back).
 */
export function pushHandoff(o: { topology: Topology; queue(shard: number): TypedQueue<'im.push'>; timeoutMs: number }) {
  return async (items: readonly PushItem[]): Promise<void> => {
    if (items.length === 0) return;
    const adds = Promise.all(pushJobs(items, o.topology).map(({ shard, jobs }) => o.queue(shard).addBulk(jobs)));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the push queue did not answer within ${o.timeoutMs} ms`)), o.timeoutMs);
    });
    try {
      await Promise.race([adds, timeout]);
    } finally {
      clearTimeout(timer);
      adds.catch(() => {});
    }
  };
}
