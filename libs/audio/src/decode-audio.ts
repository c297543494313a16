import { ErrorCode, ServiceError } from '@app/contracts';
import { assertWavHeaderWithin, AudioInput, collect, handlingFor, peekHead, resume } from './audio-input';
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

/**
 * Upload bytes → 16 kHz mono float32. Never touches the disk. A chunked input is looked at by its
 * first 64 KB: WAV, MP4 and MP3 are read whole first (see handlingFor), anything else streams into
 * ffmpeg as it is read, never held whole.
 */
export async function decodeAudio(input: AudioInput, options: FfmpegDecodeOptions): Promise<DecodedAudio> {
  if (Buffer.isBuffer(input)) return decodeWhole(input, options);
  const { head, rest, ended } = await peekHead(input);
  if (head.length === 0) throw new ServiceError(ErrorCode.EmptyFile, 'the uploaded file is empty', 'file');
  assertWavHeaderWithin(head, options.maxSeconds);
  if (ended) return decodeWhole(head, options);
  if (handlingFor(head) === 'whole') return decodeWhole(await collect(resume(head, rest, false)), options);
  const pcm = await decodeWithFfmpeg(resume(head, rest, false), options);
  return checked(pcm, options, 'ffmpeg');
}

async function decodeWhole(bytes: Buffer, options: FfmpegDecodeOptions): Promise<DecodedAudio> {
  if (bytes.length === 0) throw new ServiceError(ErrorCode.EmptyFile, 'the uploaded file is empty', 'file');
  if (isTruncatedMp3(bytes)) {
    throw new ServiceError(ErrorCode.InvalidAudio, 'the MP3 file is truncated: it declares more audio than was uploaded', 'file');
  }
  const wav = decodeWavFastPath(bytes);
  // MP4s with moov after mdat need a seek a pipe can't do: hand ffmpeg the moov-first order instead
  const pcm = wav ?? (await decodeWithFfmpeg(faststartSegments(bytes) ?? bytes, options));
  return checked(pcm, options, wav ? 'wav' : 'ffmpeg');
}

function checked(pcm: Float32Array, options: FfmpegDecodeOptions, decoder: DecodedAudio['decoder']): DecodedAudio {
  if (pcm.length === 0) throw new ServiceError(ErrorCode.InvalidAudio, 'the file contains no audio samples', 'file');
  const durationSeconds = pcm.length / SAMPLE_RATE;
  if (durationSeconds > options.maxSeconds) {
    throw new ServiceError(ErrorCode.AudioTooLong, `audio is ${durationSeconds.toFixed(1)} s, longer than MAX_AUDIO_SECONDS=${options.maxSeconds}`, 'file');
  }
  return { pcm, durationSeconds, decoder };
}
