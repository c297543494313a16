/**
 * Uploads in the MP4 family as phones and cameras write them: ffmpeg's default layout puts the
 * index (moov) after the media data (mdat), which a pipe can't seek back to. The worker reorders
 * them in memory, so each must transcribe like the WAV it was made from.
 */
import { JFK_SECONDS, makeMp4Fixtures, Mp4Fixture, topLevelBoxes } from '../support/mp4-fixtures';
import { postTranscribe, ServiceStack, startStack } from '../support/service-harness';

describe('MP4-family uploads with moov at the end', () => {
  let stack: ServiceStack;
  let fixtures: Mp4Fixture[];

  beforeAll(async () => {
    fixtures = makeMp4Fixtures();
    stack = await startStack({ WHISPER_MODEL: 'synthetic-micro' });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('the fixtures keep ffmpeg’s default layout (moov after mdat)', () => {
    for (const fixture of fixtures) {
      const boxes = topLevelBoxes(fixture.moovAtEnd);
      expect(boxes.indexOf('moov')).toBeGreaterThan(boxes.indexOf('mdat'));
    }
  });

  it('m4a, mp4 with video, mov and 3gp all transcribe with the source’s duration', async () => {
    const answers: { name: string; status: number; duration?: number; error?: unknown }[] = [];
    for (const fixture of fixtures) {
      const { status, body } = await postTranscribe(stack.base, fixture.moovAtEnd, { allowed_languages: 'en' }, fixture.fileName);
      answers.push({ name: fixture.name, status, duration: body?.duration, error: body?.error });
    }
    // one assertion over the whole set, so a failure names every container that broke
    expect(answers.map((a) => ({ name: a.name, status: a.status, error: a.error }))).toEqual(
      fixtures.map((f) => ({ name: f.name, status: 200, error: undefined })),
    );
    for (const answer of answers) expect(Math.abs((answer.duration as number) - JFK_SECONDS)).toBeLessThanOrEqual(0.1);
    expect(stack.worker.child.exitCode).toBeNull();
  });
});
