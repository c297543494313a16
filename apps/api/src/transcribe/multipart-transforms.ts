import { TransformFnParams } from 'class-transformer';

/**
 * Multipart fields arrive as strings. Implicit conversion would turn "false" into true, so each
 * type is parsed explicitly; anything unparseable is passed through unchanged for the validator to reject.
 */
export function toBoolean({ value }: TransformFnParams): unknown {
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string') return value;
  const normalized = value.trim().toLowerCase();
  if (normalized === 'true' || normalized === '1') return true;
  if (normalized === 'false' || normalized === '0') return false;
  return value;
}

export function toInteger({ value }: TransformFnParams): unknown {
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) return Number(value);
  return value;
}

/** "en, de" → ["en", "de"]; an empty string means "no restriction". */
export function toLanguageList({ value }: TransformFnParams): unknown {
  if (typeof value !== 'string') return value;
  const codes = value.split(',').map((code) => code.trim().toLowerCase()).filter(Boolean);
  return codes.length > 0 ? [...new Set(codes)] : undefined;
}

export function toTrimmedString({ value }: TransformFnParams): unknown {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}
