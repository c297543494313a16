import { Body, Controller, Get, HttpCode, Param, Post, Res, UploadedFile, UseInterceptors } from '@nestjs/common';
import { FileInterceptor } from '@nestjs/platform-express';
import type { Response } from 'express';
import {
  asSentFields,
  assertEnglishOnlyLanguages,
  ErrorCode,
  isEnglishOnlyModelName,
  OpenAiModel,
  OpenAiModelList,
  openAiModelList,
  readOpenAiTranscriptionForm,
  renderOpenAiTranscript,
  resolveTranscribeForm,
  ServiceError,
} from '@app/contracts';
import { CurrentPrincipal } from '../auth/access.decorator';
import type { Principal } from '../auth/credentials';
import { TranscriptionJobsService } from '../jobs/transcription-jobs.service';
import { assertServableModel } from '../workers/servable-model';
import { WorkerRegistry } from '../workers/worker-registry.service';

/**
 * OpenAI's audio API (issue 12, item 1): the official SDKs, Open WebUI and other OpenAI clients
 * work with only baseURL and apiKey changed. Same auth (Bearer key from API_KEYS) and jobs as
 * POST /transcribe; errors in OpenAI's shape (ErrorBodyFilter picks it for every /v1 path).
 */
@Controller('v1')
export class OpenAiController {
  constructor(
    private readonly jobs: TranscriptionJobsService,
    private readonly workers: WorkerRegistry,
  ) {}

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

  /** Synchronous, as OpenAI's: 200 with the transcript in response_format, or an error (504 transcription_timeout past SYNC_TIMEOUT_S). */
  @Post('audio/transcriptions')
  @HttpCode(200)
  @UseInterceptors(FileInterceptor('file'))
  async transcriptions(
    @UploadedFile() file: Express.Multer.File | undefined,
    @Body() body: Record<string, unknown> | undefined,
    @Res({ passthrough: true }) response: Response,
    @CurrentPrincipal() principal: Principal,
  ): Promise<object | string> {
    const form = readOpenAiTranscriptionForm(body ?? {});
    if (!file) throw new ServiceError(ErrorCode.MissingFile, 'send the audio as multipart field "file"', 'file');
    if (file.size === 0) throw new ServiceError(ErrorCode.EmptyFile, 'the uploaded file is empty', 'file');
    try {
      const { options, request } = resolveTranscribeForm(form.fields);
      const workers = await this.workers.liveWorkers();
      if (workers.length === 0) throw new ServiceError(ErrorCode.NoWorkers, 'no transcription worker is running; retry later');
      assertServableModel(options.whisperModel, workers, 'model');
      if (options.whisperModel && isEnglishOnlyModelName(options.whisperModel)) assertEnglishOnlyLanguages(options.whisperModel, options.allowedLanguages);
      const outcome = await this.jobs.submit(file.buffer, file.originalname, options, true, principal);
      if (outcome.kind === 'accepted') {
        throw new ServiceError(
          ErrorCode.TranscriptionTimeout,
          `the transcript was not ready within SYNC_TIMEOUT_S; job ${outcome.jobId} goes on: GET /jobs/${outcome.jobId} with the same key`,
        );
      }
      const rendered = renderOpenAiTranscript(outcome.result, { ...request, ...form.answer });
      response.setHeader('Content-Type', rendered.contentType);
      return rendered.body;
    } catch (error) {
      throw asSentFields(error, form.sentAs);
    }
  }
}
