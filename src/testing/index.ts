/**
 * `tessera-session/testing`: the store contract suite and record fixtures, for Tessera's own stores and
 * for third-party stores in other packages.
 */
export * from './contract.js';
export * from './fixtures.js';
