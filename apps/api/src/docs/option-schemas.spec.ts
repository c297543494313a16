import { describeOptions, OptionDescription } from '@app/contracts';
import { LIST_ITEMS_EXTENSION, multipartBody, optionSchema, queryParameters } from './option-schemas';

const base = { key: 'k', scope: 'job', doc: 'what it does' } as const;

describe('optionSchema: an option of the table as an OpenAPI schema', () => {
  it('an integer: type, default and range from the table', () => {
    expect(optionSchema({ ...base, name: 'batch_size', type: 'int', default: 16, minimum: 1, maximum: 64 })).toEqual({
      type: 'integer', description: 'what it does.', default: 16, minimum: 1, maximum: 64,
    });
  });

  it('a boolean, an enum, a string with a pattern; "unset" when there is no default', () => {
    expect(optionSchema({ ...base, name: 'vad', type: 'bool', default: true })).toMatchObject({ type: 'boolean', default: true });
    expect(optionSchema({ ...base, name: 'task', type: 'enum', enum: ['a', 'b'], default: 'a' })).toMatchObject({ type: 'string', enum: ['a', 'b'], default: 'a' });
    const model = optionSchema({ ...base, name: 'whisper_model', type: 'string', pattern: '^x+$', unset: "the worker's WHISPER_MODEL" });
    expect(model).toMatchObject({ type: 'string', pattern: '^x+$' });
    expect(model.default).toBeUndefined();
    expect(model.description).toBe("what it does. Unset: the worker's WHISPER_MODEL.");
  });

  it('a list (a default array, items or maxItems): a comma-separated string, the item rules in an extension', () => {
    const ladder = optionSchema({ ...base, name: 'temperature', type: 'temperature', default: [0, 0.5, 1], minimum: 0, maximum: 1, maxItems: 11 } as OptionDescription);
    expect(ladder).toMatchObject({ type: 'string', default: '0,0.5,1' });
    expect(ladder.minimum).toBeUndefined();
    expect((ladder as Record<string, unknown>)[LIST_ITEMS_EXTENSION]).toEqual({ type: 'number', minimum: 0, maximum: 1, maxItems: 11 });
    const languages = optionSchema({ ...base, name: 'allowed_languages', type: 'language_list', items: ['en', 'de'] });
    expect((languages as Record<string, unknown>)[LIST_ITEMS_EXTENSION]).toEqual({ type: 'string', enum: ['en', 'de'] });
  });

  it('a kind the mapping does not name is described from its fields (a number with a range)', () => {
    expect(optionSchema({ ...base, name: 'threshold', type: 'number', default: 0.6, minimum: 0, maximum: 1 } as OptionDescription)).toMatchObject({
      type: 'number', default: 0.6, minimum: 0, maximum: 1,
    });
  });

  it('describes every option of the table, each with its doc', () => {
    for (const option of describeOptions()) {
      const schema = optionSchema(option);
      expect(['integer', 'number', 'boolean', 'string']).toContain(schema.type);
      expect(schema.description).toContain(option.doc);
    }
  });

  it('a multipart body: the binary file first and required; query parameters by name', () => {
    const body = multipartBody({ vad: { type: 'boolean' } }, 'the upload');
    expect(body.content['multipart/form-data'].schema).toEqual({
      type: 'object', required: ['file'], properties: { file: expect.objectContaining({ type: 'string', format: 'binary' }), vad: { type: 'boolean' } },
    });
    expect(queryParameters([{ ...base, name: 'max_line_width', type: 'int', minimum: 1, maximum: 1000 }])).toEqual([
      expect.objectContaining({ name: 'max_line_width', in: 'query', required: false, schema: expect.objectContaining({ type: 'integer', maximum: 1000 }) }),
    ]);
  });
});
