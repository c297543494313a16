import { diarize, DiarizationModels, DiarizeOptions, SpeakerTurn } from '@app/diarization';
import { diarizationErrorRate } from '@app/testing';
import { makeConversationScript, synthesizeConversation } from './synthetic-conversation';

export interface ConversationScore {
  speakers: number;
  seconds: number;
  /** DER with the 0.25 s collar (the goal is ≤ 5 %) */
  der: number;
  /** DER without collar: shows boundary differences the collar hides */
  derNoCollar: number;
  /** seconds */
  missed: number;
  falseAlarm: number;
  confusion: number;
  speakersFound: number;
  turns: SpeakerTurn[];
  reference: SpeakerTurn[];
  /** embeddings computed, and how many of them from overlapped speech (clean speech too short) */
  embeddings: number;
  overlapEmbeddings: number;
  elapsedMs: number;
}

export interface ConversationCase {
  speakers: number;
  seconds: number;
  seed: number;
  minSpeakers?: number;
  maxSpeakers?: number;
  /** harder variants: more overlapped turns (default 0.2), a louder noise floor (default 0.003), unequal voices */
  overlapRatio?: number;
  noise?: number;
  amplitude?: number | readonly number[];
}

/**
 * Generates a conversation with known turns (overlaps included), diarizes it, scores it (DER, 0.25 s
 * collar). `diarizeOptions` override the pipeline's defaults (for parity measurements).
 */
export async function scoreConversation(models: DiarizationModels, options: ConversationCase, diarizeOptions: DiarizeOptions = {}): Promise<ConversationScore> {
  const script = makeConversationScript({ speakers: options.speakers, seconds: options.seconds, seed: options.seed, overlapRatio: options.overlapRatio });
  const conversation = synthesizeConversation({ speakers: options.speakers, turns: script, seed: options.seed, noise: options.noise, amplitude: options.amplitude });
  const reference = conversation.turns.map(({ speaker, start, end }) => ({ speaker, start, end }));
  const started = performance.now();
  const result = await diarize(conversation.pcm, models, { ...diarizeOptions, minSpeakers: options.minSpeakers, maxSpeakers: options.maxSpeakers });
  const elapsedMs = performance.now() - started;
  const score = diarizationErrorRate(reference, result.turns, { collar: 0.25 });
  return {
    speakers: options.speakers,
    seconds: options.seconds,
    der: score.der,
    derNoCollar: diarizationErrorRate(reference, result.turns, { collar: 0 }).der,
    missed: score.missed,
    falseAlarm: score.falseAlarm,
    confusion: score.confusion,
    speakersFound: new Set(result.turns.map((t) => t.speaker)).size,
    turns: result.turns,
    reference,
    embeddings: result.embeddings,
    overlapEmbeddings: result.overlapEmbeddings,
    elapsedMs,
  };
}
