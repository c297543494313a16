import { ValidationError, ValidationPipe } from '@nestjs/common';
import { ErrorCode, ServiceError, unknownFieldMessage } from '@app/contracts';

function firstMessage(error: ValidationError): string {
  if (error.constraints) {
    // unknown fields: say which, in the original Python service's terms
    if (error.constraints.whitelistValidation) return unknownFieldMessage(error.property);
    return Object.values(error.constraints)[0];
  }
  return error.children?.length ? firstMessage(error.children[0]) : `invalid ${error.property}`;
}

/**
 * DTO validation whose failures become the service's error body, naming the field at fault. POST
 * /transcribe's form is read by the option table instead (TranscribeFormPipe); this stays the
 * global pipe for any route that takes a class-validator DTO.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: (errors: ValidationError[]) => {
      const error = errors[0];
      return new ServiceError(ErrorCode.ValidationFailed, firstMessage(error), error.property);
    },
  });
}
