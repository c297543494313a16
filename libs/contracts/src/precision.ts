/**
 * The precision of every number in a TranscriptionResult (seconds, scores, probabilities): three
 * decimals. Each stage rounds what it hands on (the next stage computes on those values: alignment
 * cuts the audio at the rounded segment bounds, speakers are assigned by rounded times), with this
 * one helper.
 */
export function round3(value: number): number {
  return Math.round(value * 1000) / 1000;
}
