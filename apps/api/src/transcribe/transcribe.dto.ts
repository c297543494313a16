import { Transform } from 'class-transformer';
import { IsOptional } from 'class-validator';
import { IsFormBoolean, IsIntegerInRange, IsLanguageList, IsModelName } from './form-field-validators';
import { toBoolean, toInteger, toLanguageList, toTrimmedString } from './multipart-transforms';

/**
 * Form fields of POST /transcribe (the original Python service's names, plus `async`). The file is handled by multer.
 * One validator per field, so its message says what is wrong (not an integer vs out of range).
 */
export class TranscribeDto {
  @IsOptional()
  @Transform(toInteger)
  @IsIntegerInRange(1, 64)
  batch_size?: number;

  @IsOptional()
  @Transform(toBoolean)
  @IsFormBoolean()
  diarize?: boolean;

  @IsOptional()
  @Transform(toBoolean)
  @IsFormBoolean()
  align_words?: boolean;

  @IsOptional()
  @Transform(toTrimmedString)
  @IsModelName()
  whisper_model?: string;

  @IsOptional()
  @Transform(toInteger)
  @IsIntegerInRange(1, 100)
  min_speakers?: number;

  @IsOptional()
  @Transform(toInteger)
  @IsIntegerInRange(1, 100)
  max_speakers?: number;

  @IsOptional()
  @Transform(toLanguageList)
  @IsLanguageList()
  allowed_languages?: string[];

  @IsOptional()
  @Transform(toBoolean)
  @IsFormBoolean()
  async?: boolean;

  /** Not in the original Python service: turn Silero VAD cut & merge off (whole-file decoding, as whisper-cli does). */
  @IsOptional()
  @Transform(toBoolean)
  @IsFormBoolean()
  vad?: boolean;
}
