/** The three dialects by name: what `dialect: …` and a connection URL select. */
import type { SqlDialect } from '../../../core/config.js';
import type { DialectSpec } from '../dialect.js';
import { mysql } from './mysql.js';
import { postgres } from './postgres.js';
import { sqlite } from './sqlite.js';

export const DIALECTS: Record<SqlDialect, DialectSpec> = { postgres, mysql, sqlite };
