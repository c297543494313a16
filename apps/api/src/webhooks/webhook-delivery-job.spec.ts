import { JobView } from '@app/contracts';
import { webhookDelivery, webhookTarget } from './webhook-delivery-job';

const view = (status: JobView['status']): JobView => ({ job_id: 'j1', status, progress: 100, stage: 'done' });

describe('webhookDelivery', () => {
  const target = webhookTarget({ callbackUrl: 'https://hooks.example/x', callbackSecret: 'whsec_abc' });

  it('wraps the view in the Standard Webhooks envelope, timestamped when the job ended', () => {
    const delivery = webhookDelivery('j1', target, view('completed'), Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(delivery).toMatchObject({ jobId: 'j1', type: 'transcription.completed', url: 'https://hooks.example/x', secret: 'whsec_abc' });
    expect(JSON.parse(delivery!.body)).toEqual({ type: 'transcription.completed', timestamp: '2026-01-02T03:04:05.000Z', data: view('completed') });
  });

  it('names failed and cancelled jobs, and has nothing to say about running ones or jobs without a callback', () => {
    expect(webhookDelivery('j1', target, view('failed'), 0)?.type).toBe('transcription.failed');
    expect(webhookDelivery('j1', target, view('cancelled'), 0)?.type).toBe('transcription.cancelled');
    expect(webhookDelivery('j1', target, view('active'), 0)).toBeUndefined();
    expect(webhookDelivery('j1', target, view('queued'), 0)).toBeUndefined();
    expect(webhookDelivery('j1', webhookTarget({}), view('completed'), 0)).toBeUndefined();
  });

  it('leaves the secret out when the request gave none (WEBHOOK_SECRET signs then)', () => {
    const delivery = webhookDelivery('j1', webhookTarget({ callbackUrl: 'https://hooks.example/x' }), view('completed'), 0);
    expect(delivery).not.toHaveProperty('secret');
  });
});
