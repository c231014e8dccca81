export * from '../core/record.js';
