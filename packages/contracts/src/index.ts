export * from './ids';
export * from './messages';
export * from './pipeline';
export * from './message-id-layout';
export * from './push';
export * from './signature';
export * from './hooks';
