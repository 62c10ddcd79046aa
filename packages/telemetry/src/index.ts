export * from './settings';
export * from './start';
export * from './tracing';
