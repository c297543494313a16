import { Body, Controller, Get, HttpCode, Inject, Param, Post, Res, UploadedFile, UseInterceptors } from '@nestjs/common';
import type { Response } from 'express';
import Redis from 'ioredis';
import { SERVICE_CONFIG, ServiceConfig } from '@app/config';
import {
  asSentFields,
  assertEnglishOnlyLanguages,
  ErrorCode,
  isEnglishOnlyModelName,
  OpenAiModel,
  OpenAiModelList,
  openAiModelList,
  OpenAiTranscriptionForm,
  readOpenAiTranscriptionForm,
  readOpenAiTranslationForm,
  renderOpenAiTranscript,
  resolveTranscribeForm,
  ServiceError,
} from '@app/contracts';
import { API_REDIS } from '../api.tokens';
import { CurrentPrincipal } from '../auth/access.decorator';
import type { Principal } from '../auth/credentials';
import { TranscriptionJobsService } from '../jobs/transcription-jobs.service';
import { assertServableModel } from '../workers/servable-model';
import { UPLOAD_ROUTE_WORKERS_MAX_AGE_MS, WorkerRegistry } from '../workers/worker-registry.service';
import { TranscriptStreamer } from './transcript-stream';
import { StoredUpload, StreamingUploadInterceptor } from '../upload';

/**
 * OpenAI's audio API (issue 12, item 1): the official SDKs, Open WebUI and other OpenAI clients
 * work with only baseURL and apiKey changed. Same auth (Bearer key from API_KEYS) and jobs as
 * POST /transcribe; errors in OpenAI's shape (ErrorBodyFilter picks it for every /v1 path).
 */
@Controller('v1')
export class OpenAiController {
  private readonly streamer: TranscriptStreamer;

  constructor(
    private readonly jobs: TranscriptionJobsService,
    private readonly workers: WorkerRegistry,
    @Inject(API_REDIS) redis: Redis,
    @Inject(SERVICE_CONFIG) config: ServiceConfig,
  ) {
    this.streamer = new TranscriptStreamer(redis, jobs, config.syncTimeoutS * 1000);
  }

  @Get('models')
  async listModels(): Promise<OpenAiModelList> {
    return openAiModelList(await this.workers.liveWorkers());
  }

  @Get('models/:id')
  async retrieveModel(@Param('id') id: string): Promise<OpenAiModel> {
    const found = openAiModelList(await this.workers.liveWorkers()).data.find((model) => model.id === id);
    if (!found) throw new ServiceError(ErrorCode.NotFound, `no model "${id}": GET /v1/models lists them`, 'model');
    return found;
  }

  /**
   * Synchronous, as OpenAI's: 200 with the transcript in response_format, or an error (504
   * transcription_timeout past SYNC_TIMEOUT_S); stream=true: Server-Sent Events as the job decodes.
   */
  @Post('audio/transcriptions')
  @HttpCode(200)
  @UseInterceptors(StreamingUploadInterceptor)
  async transcriptions(
    @UploadedFile() file: StoredUpload | undefined,
    @Body() body: Record<string, unknown> | undefined,
    @Res() response: Response,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    await this.answer(readOpenAiTranscriptionForm(body ?? {}), file, response, principal);
  }

  /** OpenAI's translations: speech in any language → English text (whisper's translate task), synchronous. */
  @Post('audio/translations')
  @HttpCode(200)
  @UseInterceptors(StreamingUploadInterceptor)
  async translations(
    @UploadedFile() file: StoredUpload | undefined,
    @Body() body: Record<string, unknown> | undefined,
    @Res() response: Response,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    await this.answer(readOpenAiTranslationForm(body ?? {}), file, response, principal);
  }

  /** Everything is checked before the job is queued (and before a stream's 200 goes out). */
  private async answer(form: OpenAiTranscriptionForm, file: StoredUpload | undefined, response: Response, principal: Principal): Promise<void> {
    if (!file) throw new ServiceError(ErrorCode.MissingFile, 'send the audio as multipart field "file"', 'file');
    if (file.size === 0) throw new ServiceError(ErrorCode.EmptyFile, 'the uploaded file is empty', 'file');
    const rename = (error: unknown) => asSentFields(error, form.sentAs);
    try {
      const { options, request } = resolveTranscribeForm(form.fields);
      const workers = await this.workers.liveWorkers(UPLOAD_ROUTE_WORKERS_MAX_AGE_MS);
      if (workers.length === 0) throw new ServiceError(ErrorCode.NoWorkers, 'no transcription worker is running; retry later');
      assertServableModel(options.whisperModel, workers, 'model');
      if (options.whisperModel && isEnglishOnlyModelName(options.whisperModel)) assertEnglishOnlyLanguages(options.whisperModel, options.allowedLanguages);
      if (form.answer.stream) {
        const queued = await this.jobs.submit(file, options, false, principal);
        if (queued.kind !== 'accepted') throw new Error('a job submitted without waiting must come back accepted');
        return await this.streamer.stream(queued.jobId, principal, response, rename);
      }
      const outcome = await this.jobs.submit(file, options, true, principal);
      if (outcome.kind === 'accepted') {
        throw new ServiceError(
          ErrorCode.TranscriptionTimeout,
          `the transcript was not ready within SYNC_TIMEOUT_S; job ${outcome.jobId} goes on: GET /jobs/${outcome.jobId} with the same key`,
        );
      }
      const rendered = renderOpenAiTranscript(outcome.result, { ...request, ...form.answer });
      response.status(200).setHeader('Content-Type', rendered.contentType);
      // the job behind the answer: GET /jobs/{id} shows what ran (decoding settings, timings)
      response.setHeader('X-Job-Id', outcome.result.job_id);
      response.send(rendered.kind === 'json' ? JSON.stringify(rendered.body) : rendered.body);
    } catch (error) {
      throw rename(error);
    }
  }
}
