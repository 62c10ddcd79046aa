export * from './pool';
export * from './migrate';
export * from './repositories/users.repository';
export * from './repositories/messages.repository';
export * from './repositories/offline.repository';
export * from './repositories/cursors.repository';
export * from './repositories/groups.repository';
export * from './repositories/conversations.repository';
