import { ErrorCode, ServiceError, TRANSCRIBE_OPTIONS } from '@app/contracts';
import { TranscribeFormPipe } from './transcribe-form.pipe';

/** The fields read back by their wire names (the pipe returns TranscribeOptions' camelCase names). */
type Form = Record<string, unknown>;

/** The form fields as multer hands them over (strings, in an object without a prototype), through the route's pipe. */
async function validate(fields: Record<string, string>): Promise<Form> {
  const body = Object.assign(Object.create(null) as Record<string, string>, fields);
  const read = new TranscribeFormPipe().transform(body) as Record<string, unknown>;
  return Object.fromEntries(TRANSCRIBE_OPTIONS.filter((spec) => spec.key in read).map((spec) => [spec.name, read[spec.key]]));
}

async function rejection(fields: Record<string, string>): Promise<{ field?: string; message: string }> {
  const error = await validate(fields).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ServiceError);
  expect((error as ServiceError).code).toBe(ErrorCode.ValidationFailed);
  return { field: (error as ServiceError).field, message: (error as ServiceError).message };
}

describe('POST /transcribe form messages say what is wrong', () => {
  describe.each([
    ['batch_size', 1, 64],
    ['min_speakers', 1, 100],
    ['max_speakers', 1, 100],
  ])('%s', (field, min, max) => {
    it.each(['abc', '1.5', '', '2x', 'true'])('"%s" is not an integer', async (value) => {
      const { field: at, message } = await rejection({ [field]: value });
      expect(at).toBe(field);
      expect(message).toMatch(new RegExp(`^${field} must be an integer`));
    });

    it.each([String(min - 1), String(max + 1), '-3'])('%s is out of range', async (value) => {
      const { field: at, message } = await rejection({ [field]: value });
      expect(at).toBe(field);
      expect(message).toBe(`${field} must be between ${min} and ${max}, got ${Number(value)}`);
    });

    it('takes an integer in range', async () => {
      expect((await validate({ [field]: ` ${max} ` }))[field]).toBe(max);
    });
  });

  describe('allowed_languages', () => {
    it('names the unknown code', async () => {
      expect(await rejection({ allowed_languages: 'xx' })).toEqual({
        field: 'allowed_languages',
        message: 'allowed_languages contains an unknown language code: xx',
      });
    });

    it('names every unknown code, and only those', async () => {
      const { message } = await rejection({ allowed_languages: 'en,xx,de,yy' });
      expect(message).toBe('allowed_languages contains unknown language codes: xx, yy');
    });

    it('takes known codes, trimmed, lower-cased and once each', async () => {
      expect((await validate({ allowed_languages: ' EN, de ,en' })).allowed_languages).toEqual(['en', 'de']);
    });
  });

  describe.each(['diarize', 'align_words', 'async', 'vad'])('boolean %s', (field) => {
    it.each([
      ['True', true],
      ['False', false],
      ['TRUE', true],
      ['false', false],
      ['1', true],
      ['0', false],
    ])('"%s" is %s (the Python client sends True/False)', async (value, expected) => {
      expect((await validate({ [field]: value }))[field]).toBe(expected);
    });

    it.each(['yes', 'maybe', '2'])('"%s" is refused, naming the accepted spellings', async (value) => {
      const { field: at, message } = await rejection({ [field]: value });
      expect(at).toBe(field);
      expect(message).toBe(`${field} must be true, false, 1 or 0 (any letter case), got "${value}"`);
    });
  });

  it('whisper_model: a path is not a model name', async () => {
    const { field, message } = await rejection({ whisper_model: '../etc/passwd' });
    expect(field).toBe('whisper_model');
    expect(message).toMatch(/^whisper_model must be one model name/);
  });

  it('a value echoed in a message is bounded', async () => {
    const { message } = await rejection({ batch_size: 'x'.repeat(10_000) });
    expect(message.length).toBeLessThan(120);
  });
});
