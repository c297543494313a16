import { Injectable, PipeTransform } from '@nestjs/common';
import { readTranscribeForm, TranscribeFormFields } from '@app/contracts';

/**
 * The multipart fields of POST /transcribe, read by the option table in libs/contracts: unknown
 * fields and each field's type and range give a validation_failed error naming the field. Defaults
 * and the rules between fields come after the file checks (resolveTranscribeForm in the controller).
 */
@Injectable()
export class TranscribeFormPipe implements PipeTransform<unknown, TranscribeFormFields> {
  transform(body: unknown): TranscribeFormFields {
    // multer's body is an object without a prototype; nothing else reaches this route (415 first)
    return readTranscribeForm(typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {});
  }
}
