// Public face of the controller part. Each sub-area (aggregate/, collector/, local/, report/, …)
// has its own mod.ts and is re-exported here, one line each, so other parts import only this file.
export * from './report/mod.js';
export * from './dev-cluster/mod.js';
export * from './collector/mod.js';
export * from './aggregate/mod.js';
export * from './local/mod.js';
export * from './operator/mod.js';
