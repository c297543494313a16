import { DecodingReport, defaultVadOffset, round3, TranscribeOptions, TRANSLATE_NEEDS_MULTILINGUAL, ErrorCode, ServiceError } from '@app/contracts';
import { SpeechChunk } from '@app/vad';
import { DecodeOptions, WhisperUsedParams } from '@app/whisper';
import { SpeechChunking } from '../vad/speech-detection.service';

/** The job's decoding options as whisper.cpp takes them (each chunk, or the whole file, gets the same). */
export type WhisperDecoding = Pick<
  DecodeOptions,
  'translate' | 'temperatures' | 'beamSize' | 'bestOf' | 'noSpeechThreshold' | 'conditionOnPreviousText' | 'initialPrompt'
>;

export function whisperDecoding(options: TranscribeOptions): WhisperDecoding {
  return {
    translate: options.task === 'translate',
    temperatures: options.temperature,
    beamSize: options.beamSize,
    bestOf: options.bestOf,
    noSpeechThreshold: options.noSpeechThreshold,
    conditionOnPreviousText: options.conditionOnPreviousText,
    ...(options.initialPrompt !== undefined ? { initialPrompt: options.initialPrompt } : {}),
  };
}

/** The language to force: `language`, else a single allowed_languages code; the codes detection may pick otherwise. */
export function requestedLanguages(options: TranscribeOptions): string[] | undefined {
  return options.language !== undefined ? [options.language] : options.allowedLanguages;
}

/** The VAD's thresholds and chunk length for this job (vad_offset unset: Silero's onset − 0.15). */
export function vadSettings(options: TranscribeOptions): SpeechChunking {
  return { onset: options.vadOnset, offset: options.vadOffset ?? defaultVadOffset(options.vadOnset), chunkSeconds: options.chunkSize };
}

/** A loaded English-only model cannot translate (a .en name is refused by the option table already; custom files here). */
export function assertCanTranslate(options: TranscribeOptions, isMultilingual: boolean): void {
  if (options.task === 'translate' && !isMultilingual) throw new ServiceError(ErrorCode.ValidationFailed, TRANSLATE_NEEDS_MULTILINGUAL, 'task');
}

/** TranscriptionResult.decoding: what the job was decoded with. */
export function decodingReport(
  options: TranscribeOptions,
  language: string,
  vad: { settings: SpeechChunking; chunks: readonly SpeechChunk[] } | undefined,
  params: WhisperUsedParams | undefined,
): DecodingReport {
  return {
    task: options.task,
    language,
    temperature: [...options.temperature],
    beam_size: options.beamSize,
    best_of: options.bestOf,
    no_speech_threshold: options.noSpeechThreshold,
    condition_on_previous_text: options.conditionOnPreviousText,
    ...(vad
      ? {
          vad: {
            onset: vad.settings.onset,
            offset: round3(vad.settings.offset),
            chunk_size: vad.settings.chunkSeconds,
            chunks: vad.chunks.map((chunk) => ({ start: round3(chunk.start), end: round3(chunk.end) })),
          },
        }
      : {}),
    ...(params ? { whisper_params: { ...params, temperature: round3(params.temperature), temperature_inc: round3(params.temperature_inc), no_speech_thold: round3(params.no_speech_thold) } } : {}),
  };
}
