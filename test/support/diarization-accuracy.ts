import { diarizationErrorRate, diarize, DiarizationModels, SpeakerTurn } from '@app/diarization';
import { makeConversationScript, synthesizeConversation } from './synthetic-conversation';

export interface ConversationScore {
  speakers: number;
  seconds: number;
  der: number;
  missed: number;
  falseAlarm: number;
  confusion: number;
  speakersFound: number;
  turns: SpeakerTurn[];
  reference: SpeakerTurn[];
  elapsedMs: number;
}

/** Generates a conversation with known turns (overlaps included), diarizes it, scores it (DER, 0.25 s collar). */
export async function scoreConversation(
  models: DiarizationModels,
  options: { speakers: number; seconds: number; seed: number; minSpeakers?: number; maxSpeakers?: number },
): Promise<ConversationScore> {
  const script = makeConversationScript({ speakers: options.speakers, seconds: options.seconds, seed: options.seed });
  const conversation = synthesizeConversation({ speakers: options.speakers, turns: script, seed: options.seed });
  const reference = conversation.turns.map(({ speaker, start, end }) => ({ speaker, start, end }));
  const started = performance.now();
  const result = await diarize(conversation.pcm, models, { minSpeakers: options.minSpeakers, maxSpeakers: options.maxSpeakers });
  const elapsedMs = performance.now() - started;
  const score = diarizationErrorRate(reference, result.turns, { collar: 0.25 });
  return {
    speakers: options.speakers,
    seconds: options.seconds,
    der: score.der,
    missed: score.missed,
    falseAlarm: score.falseAlarm,
    confusion: score.confusion,
    speakersFound: new Set(result.turns.map((t) => t.speaker)).size,
    turns: result.turns,
    reference,
    elapsedMs,
  };
}
