import type { Config } from '@im/config';
import type { PushPlatform } from '@im/contracts';
import { apnsProvider, readApnsKey } from './apns';
import { fcmProvider, readServiceAccount } from './fcm';
import type { PushProvider } from './provider';
import { webhookProvider } from './webhook';

/**
 * The providers push.* configures (a platform left unconfigured gets no pushes). Key files are read
 * once, at start: a file that cannot be read or parsed stops the process naming it.
 */
export function pushProviders(c: Config['push']): Partial<Record<PushPlatform, PushProvider>> {
  const out: Partial<Record<PushPlatform, PushProvider>> = {};
  if (c.webhook_url) out.webhook = webhookProvider({ url: c.webhook_url, secret: c.webhook_secret, timeoutMs: c.timeout_ms });
  if (c.fcm_credentials_file) out.fcm = fcmProvider({ account: readServiceAccount(c.fcm_credentials_file), endpoint: c.fcm_endpoint, timeoutMs: c.timeout_ms });
  if (c.apns_key_file) {
    out.apns = apnsProvider({ key: readApnsKey(c.apns_key_file), keyId: c.apns_key_id, teamId: c.apns_team_id, topic: c.apns_topic, endpoint: c.apns_endpoint, timeoutMs: c.timeout_ms });
  }
  return out;
}
