import { Inject, Injectable } from '@nestjs/common';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import { ErrorCode, ServiceError, TranscribeOptions } from '@app/contracts';
import { OutboundPolicy, OutboundRefusedError } from '@app/outbound';
import { withTimeout } from '../common/with-timeout';
import { OUTBOUND_POLICY } from './webhooks.tokens';

/** A host that takes longer than this to resolve is refused at submission (it would fail at delivery too). */
const RESOLVE_TIMEOUT_MS = 5_000;

/**
 * The submission-time checks of callback_url / callback_secret that need the server: a signing
 * secret must exist, and the host must resolve to public addresses (or be on
 * OUTBOUND_ALLOWED_HOSTS). The same SSRF check runs again before every delivery: DNS may change.
 */
@Injectable()
export class CallbackCheck {
  constructor(
    @Inject(SERVICE_CONFIG) private readonly config: ServiceConfig,
    @Inject(OUTBOUND_POLICY) private readonly policy: OutboundPolicy,
  ) {}

  async assertDeliverable(options: Pick<TranscribeOptions, 'callbackUrl' | 'callbackSecret'>): Promise<void> {
    const { callbackUrl, callbackSecret } = options;
    if (callbackUrl === undefined) {
      if (callbackSecret !== undefined) throw invalid('callback_secret', 'callback_secret is only used with callback_url');
      return;
    }
    if (callbackSecret === undefined && this.config.webhookSecret === undefined) {
      throw invalid('callback_url', 'callback_url needs a signing secret: send callback_secret (whsec_<base64>) or set WEBHOOK_SECRET on the server');
    }
    const timedOut = () => new OutboundRefusedError(`the host did not resolve within ${RESOLVE_TIMEOUT_MS / 1000} s`);
    try {
      await withTimeout(this.policy.check(callbackUrl), RESOLVE_TIMEOUT_MS, timedOut);
    } catch (error) {
      if (error instanceof OutboundRefusedError) throw invalid('callback_url', `callback_url refused: ${error.message}`);
      throw error;
    }
  }
}

const invalid = (field: string, message: string) => new ServiceError(ErrorCode.ValidationFailed, message, field);
