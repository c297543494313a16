export * from './address-policy';
export * from './outbound-policy';
export * from './guarded-post';
export * from './guarded-get';
