import { ErrorCode, ServiceError } from '@app/contracts';
import { OutboundPolicy } from '@app/outbound';
import type { StoredUpload } from '../upload/stored-upload';
import { uploadOrAudioUrl } from './audio-url-input';

describe('uploadOrAudioUrl', () => {
  // by this fake resolver example.test is public, internal.test and allowed.test private (allowed.test is listed)
  const policy = new OutboundPolicy(['allowed.test'], async (host) =>
    host.endsWith('internal.test') || host === 'allowed.test' ? [{ address: '10.1.2.3', family: 4 }] : [{ address: '93.184.216.34', family: 4 }],
  );
  const upload: StoredUpload = { jobId: 'j', size: 10, originalname: 'a.wav', mimetype: 'audio/wav', claimed: false };
  const failure = (promise: Promise<unknown>) => promise.then(() => undefined, (error: ServiceError) => error);

  it('passes an upload through, refuses neither and both', async () => {
    expect(await uploadOrAudioUrl(policy, upload, undefined)).toBe(upload);
    expect(await failure(uploadOrAudioUrl(policy, undefined, undefined))).toMatchObject({ code: ErrorCode.MissingFile, field: 'file' });
    expect(await failure(uploadOrAudioUrl(policy, upload, 'https://example.test/a.wav'))).toMatchObject({ code: ErrorCode.ValidationFailed, field: 'audio_url' });
  });

  it('a URL job: a fresh job id, the path\'s last segment as its name (never the query), nothing stored', async () => {
    const job = await uploadOrAudioUrl(policy, undefined, 'https://example.test/rec/Meeting%201.mp3?X-Amz-Signature=abc');
    expect(job).toMatchObject({ size: 0, originalname: 'Meeting 1.mp3', claimed: false });
    expect(job.jobId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await uploadOrAudioUrl(policy, undefined, 'https://example.test/')).originalname).toBe('audio');
  });

  it('applies the SSRF rules at submission: a private answer is a 400 on audio_url, an allow-listed host passes', async () => {
    const refused = await failure(uploadOrAudioUrl(policy, undefined, 'http://internal.test/a.wav'));
    expect(refused).toMatchObject({ code: ErrorCode.ValidationFailed, field: 'audio_url' });
    expect(refused?.message).toMatch(/audio_url refused: .*private/);
    expect(await failure(uploadOrAudioUrl(policy, undefined, 'http://[::1]/a.wav'))).toMatchObject({ field: 'audio_url' });
    expect((await uploadOrAudioUrl(policy, undefined, 'http://allowed.test/a.wav')).size).toBe(0);
  });
});
