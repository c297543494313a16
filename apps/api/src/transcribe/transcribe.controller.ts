import { Body, Controller, HttpCode, Inject, Post, Res, UploadedFile, UseInterceptors } from '@nestjs/common';
import type { Response } from 'express';
import {
  AcceptedBody,
  assertEnglishOnlyLanguages,
  ErrorCode,
  isEnglishOnlyModelName,
  resolveTranscribeForm,
  readTranscribeForm,
  ServiceError,
  TranscribeFormFields,
} from '@app/contracts';
import { CurrentPrincipal } from '../auth/access.decorator';
import type { Principal } from '../auth/credentials';
import { TranscriptionJobsService } from '../jobs/transcription-jobs.service';
import { assertServableModel } from '../workers/servable-model';
import { CallbackCheck } from '../webhooks';
import { UPLOAD_ROUTE_WORKERS_MAX_AGE_MS, WorkerRegistry } from '../workers/worker-registry.service';
import { TranscribeFormPipe } from './transcribe-form.pipe';
import { OutboundPolicy } from '@app/outbound';
import { OUTBOUND_POLICY } from '../webhooks/webhooks.tokens';
import { uploadOrAudioUrl } from './audio-url-input';
import { sendTranscript } from './transcript-response';
import { CheckFieldsBeforeFile, StoredUpload, StreamingUploadInterceptor } from '../upload';

@Controller()
export class TranscribeController {
  constructor(
    private readonly jobs: TranscriptionJobsService,
    private readonly workers: WorkerRegistry,
    private readonly callbacks: CallbackCheck,
    @Inject(OUTBOUND_POLICY) private readonly outbound: OutboundPolicy,
  ) {}

  /** Sync by default (200 with the transcript in response_format); async=true, or a sync wait past SYNC_TIMEOUT_S, gives 202. */
  @Post('transcribe')
  @HttpCode(200)
  // the audio streams into the blob store as it arrives; fields sent before it are checked first
  @UseInterceptors(StreamingUploadInterceptor)
  @CheckFieldsBeforeFile(readTranscribeForm)
  async transcribe(
    @UploadedFile() uploaded: StoredUpload | undefined,
    @Body(TranscribeFormPipe) form: TranscribeFormFields,
    @Res({ passthrough: true }) response: Response,
    @CurrentPrincipal() principal: Principal,
  ): Promise<object | string | AcceptedBody> {
    // the upload, or audio_url (exactly one; a URL passes the SSRF check here and again at download)
    const file = await uploadOrAudioUrl(this.outbound, uploaded, form.audioUrl);
    if (file.size === 0 && form.audioUrl === undefined) throw new ServiceError(ErrorCode.EmptyFile, 'the uploaded file is empty', 'file');
    // defaults and min_speakers ≤ max_speakers, after the file: a missing file is reported first
    const { options, request } = resolveTranscribeForm(form);
    // callback_url: a signing secret exists and the host resolves to allowed addresses (SSRF)
    await this.callbacks.assertDeliverable(options);
    const workers = await this.workers.liveWorkers(UPLOAD_ROUTE_WORKERS_MAX_AGE_MS);
    // a sync caller would only wait for SYNC_TIMEOUT_S; an async job can wait for workers to come back
    if (!request.async && workers.length === 0) {
      throw new ServiceError(ErrorCode.NoWorkers, 'no transcription worker is running; retry later or submit with async=true');
    }
    assertServableModel(options.whisperModel, workers);
    // an official .en name is known to be English-only here already: no job, no upload stored
    if (options.whisperModel && isEnglishOnlyModelName(options.whisperModel)) assertEnglishOnlyLanguages(options.whisperModel, options.allowedLanguages);
    const outcome = await this.jobs.submit(file, options, !request.async, principal);
    // the 200 body in response_format; a download (Content-Disposition) only when a format was asked for
    if (outcome.kind === 'completed') return sendTranscript(response, outcome.result, request, file.originalname, form.responseFormat !== undefined);
    response.status(202);
    return { job_id: outcome.jobId, status: 'queued', status_url: `/jobs/${outcome.jobId}` };
  }
}
