import { ErrorCode, ServiceError } from '@app/contracts';
import { decodeWithFfmpeg, FfmpegDecodeOptions } from './ffmpeg-decoder';
import { isTruncatedMp3 } from './mp3-integrity';
import { faststartSegments } from './mp4-faststart';
import { decodeWavFastPath, SAMPLE_RATE } from './wav';

export interface DecodedAudio {
  pcm: Float32Array;
  durationSeconds: number;
  /** how it was decoded, for logs and timings */
  decoder: 'wav' | 'ffmpeg';
}

/** Upload bytes → 16 kHz mono float32. Never touches the disk. */
export async function decodeAudio(bytes: Buffer, options: FfmpegDecodeOptions): Promise<DecodedAudio> {
  if (bytes.length === 0) throw new ServiceError(ErrorCode.EmptyFile, 'the uploaded file is empty', 'file');
  if (isTruncatedMp3(bytes)) {
    throw new ServiceError(ErrorCode.InvalidAudio, 'the MP3 file is truncated: it declares more audio than was uploaded', 'file');
  }
  const wav = decodeWavFastPath(bytes);
  // MP4s with moov after mdat need a seek a pipe can't do: hand ffmpeg the moov-first order instead
  const pcm = wav ?? (await decodeWithFfmpeg(faststartSegments(bytes) ?? bytes, options));
  if (pcm.length === 0) throw new ServiceError(ErrorCode.InvalidAudio, 'the file contains no audio samples', 'file');
  const durationSeconds = pcm.length / SAMPLE_RATE;
  if (durationSeconds > options.maxSeconds) {
    throw new ServiceError(ErrorCode.AudioTooLong, `audio is ${durationSeconds.toFixed(1)} s, longer than MAX_AUDIO_SECONDS=${options.maxSeconds}`, 'file');
  }
  return { pcm, durationSeconds, decoder: wav ? 'wav' : 'ffmpeg' };
}
