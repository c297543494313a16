import type { ParameterObject, RequestBodyObject, SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { OptionDescription } from '@app/contracts';

/**
 * The options table (describeOptions() in libs/contracts) as OpenAPI schemas: type, default,
 * range, pattern, allowed values and description all come from the table, none is restated here.
 * The mapping reads the description's fields, not its kind, so a kind added to the table later is
 * described from what it reports (minimum/maximum → number, enum → string, …).
 */

/**
 * Where a list option keeps the rules of each item: multipart has no comma-separated arrays, so
 * the field itself is a string ("en,de", "0,0.2,0.4").
 */
export const LIST_ITEMS_EXTENSION = 'x-comma-separated-items';

/** A list option: its value is a comma-separated string of items. */
const isListOption = (option: OptionDescription): boolean =>
  Array.isArray(option.default) || option.items !== undefined || option.maxItems !== undefined;

/** The JSON type of one value (of the option, or of each item of a list option). */
function valueType(option: OptionDescription): SchemaObject['type'] {
  if (option.type === 'int') return 'integer';
  if (option.type === 'bool' || typeof option.default === 'boolean') return 'boolean';
  if (option.enum || option.items || option.pattern || option.type === 'string') return 'string';
  if (option.minimum !== undefined || option.maximum !== undefined) return 'number';
  return 'string';
}

/** The range and allowed values of a value (or of each item). */
function valueRules(option: OptionDescription): SchemaObject {
  const values = option.enum ?? option.items;
  return {
    ...(option.minimum !== undefined ? { minimum: option.minimum } : {}),
    ...(option.maximum !== undefined ? { maximum: option.maximum } : {}),
    ...(option.pattern !== undefined ? { pattern: option.pattern } : {}),
    ...(values !== undefined ? { enum: [...values] } : {}),
  };
}

/** What leaving the field out means, for options without a default. */
const unsetNote = (option: OptionDescription): string => (option.default === undefined && option.unset ? ` Unset: ${option.unset}.` : '');

export function optionSchema(option: OptionDescription): SchemaObject {
  const description = `${option.doc}.${unsetNote(option)}`.replace(/\.\.(?= |$)/g, '.');
  const defaultValue: SchemaObject =
    option.default === undefined ? {} : { default: Array.isArray(option.default) ? (option.default as readonly unknown[]).join(',') : option.default };
  if (!isListOption(option)) return { type: valueType(option), description, ...defaultValue, ...valueRules(option) };
  const items: SchemaObject = { type: valueType(option), ...valueRules(option), ...(option.maxItems !== undefined ? { maxItems: option.maxItems } : {}) };
  const schema: SchemaObject = { type: 'string', description: `${description} A comma-separated list.`, ...defaultValue };
  (schema as Record<string, unknown>)[LIST_ITEMS_EXTENSION] = items;
  return schema;
}

/** name → schema for each option, in the table's order. */
export function optionProperties(options: readonly OptionDescription[]): Record<string, SchemaObject> {
  return Object.fromEntries(options.map((option) => [option.name, optionSchema(option)]));
}

/** The uploaded audio: multipart field `file`. */
const FILE_FIELD: SchemaObject = {
  type: 'string',
  format: 'binary',
  description: 'the audio (or video) file, any format ffmpeg decodes; at most MAX_UPLOAD_MB and MAX_AUDIO_SECONDS',
};

/** A multipart/form-data body with the file first and the given fields. */
export function multipartBody(properties: Record<string, SchemaObject>, description: string): RequestBodyObject {
  return {
    required: true,
    description,
    content: {
      'multipart/form-data': {
        // a form with audio_url takes the audio from file or from the URL (exactly one: the API checks);
        // OpenAPI 3.0 has no empty `required`, so none is written then
        schema: { type: 'object', ...('audio_url' in properties ? {} : { required: ['file'] }), properties: { file: FILE_FIELD, ...properties } },
      },
    },
  };
}

/** Query parameters from options (GET /jobs/:id/result). */
export function queryParameters(options: readonly OptionDescription[]): ParameterObject[] {
  return options.map((option) => ({ name: option.name, in: 'query', required: false, description: option.doc, schema: optionSchema(option) }));
}
