export * from './micro-batcher';
export * from './shutdown';
export * from './ops-server';
export * from './queues';
export * from './worker';
export * from './process';
export * from './queue-sampler';
export * from './batch-worker';
