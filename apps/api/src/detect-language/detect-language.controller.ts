import { Body, Controller, HttpCode, Inject, Post, UploadedFile, UseInterceptors } from '@nestjs/common';
import { DetectLanguageResponse, detectLanguageResponse, ErrorCode, isEnglishOnlyModelName, JobName, readDetectLanguageForm, ServiceError } from '@app/contracts';
import { CurrentPrincipal } from '../auth/access.decorator';
import type { Principal } from '../auth/credentials';
import { TranscriptionJobsService } from '../jobs/transcription-jobs.service';
import { assertServableModel } from '../workers/servable-model';
import { UPLOAD_ROUTE_WORKERS_MAX_AGE_MS, WorkerRegistry } from '../workers/worker-registry.service';
import { OutboundPolicy } from '@app/outbound';
import { OUTBOUND_POLICY } from '../webhooks/webhooks.tokens';
import { uploadOrAudioUrl } from '../transcribe/audio-url-input';
import { CheckFieldsBeforeFile, StoredUpload, StreamingUploadInterceptor } from '../upload';

/**
 * POST /detect-language (as whisper-asr-webservice has it): whisper's language probabilities for
 * the first speech of a file, without transcribing it. Synchronous: a job on the same queue, same
 * auth and fair share as POST /transcribe, answered when the worker is done.
 */
@Controller()
export class DetectLanguageController {
  constructor(
    private readonly jobs: TranscriptionJobsService,
    private readonly workers: WorkerRegistry,
    @Inject(OUTBOUND_POLICY) private readonly outbound: OutboundPolicy,
  ) {}

  @Post('detect-language')
  @HttpCode(200)
  @UseInterceptors(StreamingUploadInterceptor)
  @CheckFieldsBeforeFile(readDetectLanguageForm)
  async detect(
    @UploadedFile() uploaded: StoredUpload | undefined,
    @Body() body: Record<string, unknown> | undefined,
    @CurrentPrincipal() principal: Principal,
  ): Promise<DetectLanguageResponse> {
    const form = readDetectLanguageForm(body ?? {});
    // the upload, or audio_url (exactly one; a URL passes the SSRF check here and again at download)
    const file = await uploadOrAudioUrl(this.outbound, uploaded, form.options.audioUrl);
    if (file.size === 0 && form.options.audioUrl === undefined) throw new ServiceError(ErrorCode.EmptyFile, 'the uploaded file is empty', 'file');
    const { whisperModel } = form.options;
    // an English-only model has nothing to detect: known from its name, before any upload is stored
    if (whisperModel && isEnglishOnlyModelName(whisperModel)) {
      throw new ServiceError(ErrorCode.ValidationFailed, `${whisperModel} is English-only: language detection needs a multilingual model`, 'whisper_model');
    }
    const workers = await this.workers.liveWorkers(UPLOAD_ROUTE_WORKERS_MAX_AGE_MS);
    if (workers.length === 0) throw new ServiceError(ErrorCode.NoWorkers, 'no transcription worker is running; retry later');
    assertServableModel(whisperModel, workers);
    const outcome = await this.jobs.enqueue(JobName.DetectLanguage, file, form.options, true, principal);
    if (outcome.kind === 'accepted') {
      throw new ServiceError(ErrorCode.TranscriptionTimeout, `language detection did not finish within SYNC_TIMEOUT_S (job ${outcome.jobId}); retry later`);
    }
    return detectLanguageResponse(outcome.result, form.top);
  }
}
