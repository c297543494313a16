import { JobStage, throwIfCancelled } from '@app/contracts';

/**
 * The stages of a job in the order they run, each with the job progress (percent) at which it
 * starts. A stage that reports progress of its own moves from its start towards the start of the
 * next stage that runs in this job: transcription takes the share of alignment and diarization when
 * they were not asked for. `downloading_model` is part of `load_model`: reported at the same percent,
 * with the download's own percent in its `download` detail.
 */
export const PIPELINE_STAGES: readonly { stage: JobStage; start: number }[] = [
  { stage: 'queued', start: 0 },
  { stage: 'decode', start: 1 },
  { stage: 'vad', start: 2 },
  { stage: 'load_model', start: 6 },
  { stage: 'downloading_model', start: 6 },
  { stage: 'detect_language', start: 8 },
  { stage: 'transcribe', start: 10 },
  { stage: 'align', start: 78 },
  { stage: 'diarize', start: 88 },
  { stage: 'assemble', start: 99 },
  { stage: 'done', start: 100 },
];

const STAGE_INDEX = new Map(PIPELINE_STAGES.map((row, index) => [row.stage, index]));

/** The percent at which a stage starts. */
export function stageStart(stage: JobStage): number {
  return PIPELINE_STAGES[STAGE_INDEX.get(stage) as number].start;
}

/**
 * A job's progress through the stage table. `skipped` are the stages this job does not run (no
 * VAD, alignment or diarization asked for), so the stage before them takes over their share.
 */
export class StageProgress {
  constructor(
    private readonly report: (stage: JobStage, percent: number) => void,
    private readonly signal: AbortSignal,
    private readonly skipped: ReadonlySet<JobStage> = new Set(),
  ) {}

  /** Starts a stage; every stage starts with the cancellation check, so a cancelled job stops between stages. */
  enter(stage: JobStage): void {
    throwIfCancelled(this.signal);
    this.report(stage, stageStart(stage));
  }

  /** Reports `fraction` (0..1) of a stage done. */
  within(stage: JobStage, fraction: number): void {
    const start = stageStart(stage);
    this.report(stage, start + Math.round(fraction * (this.end(stage) - start)));
  }

  /** Where a stage's share ends: the start of the next stage that runs (one with a later start). */
  end(stage: JobStage): number {
    const start = stageStart(stage);
    const next = PIPELINE_STAGES.slice((STAGE_INDEX.get(stage) as number) + 1).find((row) => row.start > start && !this.skipped.has(row.stage));
    return next?.start ?? 100;
  }
}
