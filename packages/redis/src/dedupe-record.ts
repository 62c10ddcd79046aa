/**
 * The client_msg_id dedupe record of a send, as ingest's admission script writes it in the shard
 * of the send's conversation (apps/ingest-api/src/send/admission.ts): pending while its persist
 * job is being queued, accepted once it is. The conversation lets a reshard move the record to the
 * conversation's new shard; records written before it was part of them lack it.
 */
export type DedupeRecord =
  | { state: 'A'; message_id: string; seq: number; timestamp: number; conversation?: string }
  | { state: 'P'; job_id: string; message_id: string; seq: number; timestamp: number; written: number; conversation?: string };

export function parseRecord(value: string): DedupeRecord {
  const f = value.split('|');
  if (f[0] === 'A' && (f.length === 4 || f.length === 5)) return { state: 'A', message_id: f[1]!, seq: Number(f[2]), timestamp: Number(f[3]), ...(f[4] ? { conversation: f[4] } : {}) };
  if (f[0] === 'P' && (f.length === 6 || f.length === 7)) {
    return { state: 'P', job_id: f[1]!, message_id: f[2]!, seq: Number(f[3]), timestamp: Number(f[4]), written: Number(f[5]), ...(f[6] ? { conversation: f[6] } : {}) };
  }
  throw new Error(`unreadable dedupe record (${f[0]}, ${f.length} fields)`);
}

/** The accepted form of a record. */
export const acceptedRecord = (m: { message_id: string; seq: number; created_at: number; conversation: string }) => `A|${m.message_id}|${m.seq}|${m.created_at}|${m.conversation}`;

