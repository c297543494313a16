export * from './stored-upload';
export * from './multipart-upload';
export * from './streaming-upload.interceptor';
export * from './check-fields-before-file.decorator';
