import { ValidateBy, ValidationArguments, ValidationOptions } from 'class-validator';
import { CUSTOM_MODEL_NAME_PATTERN, isWhisperLanguage } from '@app/contracts';

/**
 * One constraint per form field, with a message for what is actually wrong. Stacked class-validator
 * decorators (IsInt + Min + Max) all fail on "abc" and the first reported was "must be at most 64".
 */

/** The value as the client sent it, bounded (a message must not echo a whole upload). */
function clipped(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

const shown = (value: unknown): string => JSON.stringify(clipped(value));

/** At most this many unknown codes are listed in a message. */
const LISTED_CODES = 5;

export function IsIntegerInRange(min: number, max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isIntegerInRange',
      validator: {
        validate: (value: unknown) => Number.isInteger(value) && (value as number) >= min && (value as number) <= max,
        defaultMessage: ({ property, value }: ValidationArguments) =>
          Number.isInteger(value)
            ? `${property} must be between ${min} and ${max}, got ${value}`
            : `${property} must be an integer between ${min} and ${max}, got ${shown(value)}`,
      },
    },
    options,
  );
}

/** Booleans after toBoolean: anything still not a boolean was not one of the accepted spellings. */
export function IsFormBoolean(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isFormBoolean',
      validator: {
        validate: (value: unknown) => typeof value === 'boolean',
        defaultMessage: ({ property, value }: ValidationArguments) =>
          `${property} must be true, false, 1 or 0 (any letter case), got ${shown(value)}`,
      },
    },
    options,
  );
}

/** A list after toLanguageList; the message names the codes whisper does not know. */
export function IsLanguageList(options?: ValidationOptions): PropertyDecorator {
  const unknownCodes = (value: unknown): string[] =>
    Array.isArray(value) ? value.filter((code) => typeof code !== 'string' || !isWhisperLanguage(code)).map(String) : [];
  return ValidateBy(
    {
      name: 'isLanguageList',
      validator: {
        validate: (value: unknown) => Array.isArray(value) && unknownCodes(value).length === 0,
        defaultMessage: ({ property, value }: ValidationArguments) => {
          if (!Array.isArray(value)) return `${property} must be a comma-separated list of language codes such as "en,de"`;
          const unknown = unknownCodes(value);
          if (unknown.length === 1) return `${property} contains an unknown language code: ${clipped(unknown[0])}`;
          const listed = unknown.slice(0, LISTED_CODES).map(clipped).join(', ');
          return `${property} contains unknown language codes: ${listed}${unknown.length > LISTED_CODES ? `, … (${unknown.length} in all)` : ''}`;
        },
      },
    },
    options,
  );
}

export function IsModelName(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isModelName',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && CUSTOM_MODEL_NAME_PATTERN.test(value),
        defaultMessage: ({ property, value }: ValidationArguments) =>
          `${property} must be one model name such as "small" or the <name> of a custom ggml-<name>.bin, got ${shown(value)}`,
      },
    },
    options,
  );
}
