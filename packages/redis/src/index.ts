export * from './connections';
export * from './keys';
export * from './presence';
export * from './message-ids';
export * from './group-members';
export * from './unacked';
export * from './pubsub';
export * from './hot-history';
