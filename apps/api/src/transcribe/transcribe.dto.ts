import { Transform } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsBoolean, IsIn, IsInt, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { CUSTOM_MODEL_NAME_PATTERN, WHISPER_LANGUAGE_CODES } from '@app/contracts';
import { toBoolean, toInteger, toLanguageList, toTrimmedString } from './multipart-transforms';

/** Form fields of POST /transcribe (the seed's names, plus `async`). The file is handled by multer. */
export class TranscribeDto {
  @IsOptional()
  @Transform(toInteger)
  @IsInt({ message: 'batch_size must be an integer' })
  @Min(1, { message: 'batch_size must be at least 1' })
  @Max(64, { message: 'batch_size must be at most 64' })
  batch_size?: number;

  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'diarize must be true, false, 1 or 0' })
  diarize?: boolean;

  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'align_words must be true, false, 1 or 0' })
  align_words?: boolean;

  @IsOptional()
  @Transform(toTrimmedString)
  @IsString()
  @Matches(CUSTOM_MODEL_NAME_PATTERN, { message: 'whisper_model must be a model name such as "small" or a custom ggml-<name>.bin name' })
  whisper_model?: string;

  @IsOptional()
  @Transform(toInteger)
  @IsInt({ message: 'min_speakers must be an integer' })
  @Min(1, { message: 'min_speakers must be at least 1' })
  @Max(100, { message: 'min_speakers must be at most 100' })
  min_speakers?: number;

  @IsOptional()
  @Transform(toInteger)
  @IsInt({ message: 'max_speakers must be an integer' })
  @Min(1, { message: 'max_speakers must be at least 1' })
  @Max(100, { message: 'max_speakers must be at most 100' })
  max_speakers?: number;

  @IsOptional()
  @Transform(toLanguageList)
  @IsArray({ message: 'allowed_languages must be a comma-separated list of language codes' })
  @ArrayMaxSize(WHISPER_LANGUAGE_CODES.length)
  @IsIn(WHISPER_LANGUAGE_CODES as unknown as string[], { each: true, message: 'allowed_languages contains an unknown language code: $value' })
  allowed_languages?: string[];

  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'async must be true, false, 1 or 0' })
  async?: boolean;

  /** Not in the seed: turn Silero VAD cut & merge off (whole-file decoding, as whisper-cli does). */
  @IsOptional()
  @Transform(toBoolean)
  @IsBoolean({ message: 'vad must be true, false, 1 or 0' })
  vad?: boolean;
}
