import { SetMetadata } from '@nestjs/common';
import { FIELDS_BEFORE_FILE_CHECK } from './streaming-upload.interceptor';

/**
 * A route's check of the form fields that arrive before the file part (our docs and clients send
 * them first): a bad one is refused before any audio is stored. It must accept a partial form;
 * the route still validates the whole form (fields after the file too) before queueing.
 */
export const CheckFieldsBeforeFile = (check: (fields: Record<string, unknown>) => void) => SetMetadata(FIELDS_BEFORE_FILE_CHECK, check);
