import type { Config } from '@im/config';
import type { PushPlatform } from '@im/contracts';
import type { PushProvider } from './provider';
import { webhookProvider } from './webhook';

/** The providers push.* configures (a platform left unconfigured gets no pushes). */
export function pushProviders(c: Config['push']): Partial<Record<PushPlatform, PushProvider>> {
  const out: Partial<Record<PushPlatform, PushProvider>> = {};
  if (c.webhook_url) out.webhook = webhookProvider({ url: c.webhook_url, secret: c.webhook_secret, timeoutMs: c.timeout_ms });
  return out;
}
