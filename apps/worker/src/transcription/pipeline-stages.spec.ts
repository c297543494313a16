import { JobCancelledError, JobStage } from '@app/contracts';
import { PIPELINE_STAGES, StageProgress, stageStart } from './pipeline-stages';

describe('PIPELINE_STAGES', () => {
  const starts = PIPELINE_STAGES.map((row) => row.start);

  it('starts at 0 (queued), never goes back and ends at 100 (done)', () => {
    expect(PIPELINE_STAGES[0]).toEqual({ stage: 'queued', start: 0 });
    expect(PIPELINE_STAGES[PIPELINE_STAGES.length - 1]).toEqual({ stage: 'done', start: 100 });
    expect([...starts].sort((a, b) => a - b)).toEqual(starts);
  });

  it('lists every stage once, in the order the pipeline runs them', () => {
    expect(PIPELINE_STAGES.map((row) => row.stage)).toEqual([
      'queued',
      'decode',
      'vad',
      'load_model',
      'downloading_model',
      'detect_language',
      'transcribe',
      'align',
      'diarize',
      'assemble',
      'done',
    ]);
  });

  it('only downloading_model shares a start: it is part of load_model', () => {
    const shared = PIPELINE_STAGES.filter((row, i) => i > 0 && row.start === PIPELINE_STAGES[i - 1].start).map((row) => row.stage);
    expect(shared).toEqual(['downloading_model']);
    expect(stageStart('downloading_model')).toBe(stageStart('load_model'));
  });
});

describe('StageProgress', () => {
  const recorder = (skipped?: JobStage[], signal = new AbortController().signal) => {
    const seen: [JobStage, number][] = [];
    const progress = new StageProgress((stage, percent) => seen.push([stage, percent]), signal, new Set(skipped));
    return { seen, progress };
  };

  it('enter reports the stage start; within moves towards the next stage that runs', () => {
    const { seen, progress } = recorder();
    progress.enter('transcribe');
    progress.within('transcribe', 0.5);
    progress.within('transcribe', 1);
    progress.within('vad', 1);
    expect(seen).toEqual([
      ['transcribe', 10],
      ['transcribe', 44],
      ['transcribe', 78],
      ['vad', 6],
    ]);
  });

  it('a stage takes over the share of the skipped stages after it', () => {
    expect(recorder(['align', 'diarize']).progress.end('transcribe')).toBe(stageStart('assemble'));
    expect(recorder(['align']).progress.end('transcribe')).toBe(stageStart('diarize'));
    expect(recorder(['diarize']).progress.end('align')).toBe(stageStart('assemble'));
    expect(recorder().progress.end('load_model')).toBe(stageStart('detect_language'));
  });

  it('entering a stage of a cancelled job throws JobCancelledError and reports nothing', () => {
    const controller = new AbortController();
    const { seen, progress } = recorder([], controller.signal);
    progress.enter('decode');
    controller.abort();
    expect(() => progress.enter('vad')).toThrow(JobCancelledError);
    expect(seen).toEqual([['decode', 1]]);
  });
});
