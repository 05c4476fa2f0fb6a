import type { CompiledQuery, Compilable, Kysely } from 'kysely';
import type { DB } from './tables.js';

/**
 * The SQL of every query compiled once, by the name PostgreSQL connections prepare it under (see
 * namedStatements in database.ts). Only these: their number is fixed by the code, where SQL built per
 * call (an `in` list of any length) would prepare without end.
 */
export const statementNames = new Map<string, string>();

interface Compiled {
  query: CompiledQuery<unknown>;
  /** For each parameter of the SQL: the argument it takes (its index), or -1 for a value of the query itself. */
  slots: number[];
}

/**
 * A query built and compiled to SQL once per dialect, then run with each call's values. Kysely builds
 * and compiles a query on every call, which costs more than a point lookup by index takes to run; the
 * hottest queries (every request's API key, a customer by phone) skip that. `build` gets stand-ins for
 * the arguments and must use each only as a bound value (a `where` operand, an inserted value), never
 * to decide the shape of the query; each must appear in the SQL (checked at the first call).
 */
export function preparedQuery<Args extends unknown[], Row>(build: (db: Kysely<DB>, ...args: Args) => Compilable<Row>) {
  const compiled = new Map<unknown, Compiled>();
  const compile = (db: Kysely<DB>, count: number): Compiled => {
    // Text stand-ins whatever the arguments' types: compiling only places them among the parameters.
    const standIns = Array.from({ length: count }, (_, n) => `\u0000prepared argument ${n}\u0000`);
    const query = build(db, ...(standIns as Args)).compile() as CompiledQuery<unknown>;
    const slots = query.parameters.map((value) => standIns.indexOf(value as string));
    for (let n = 0; n < count; n++) if (!slots.includes(n)) throw new Error(`preparedQuery: argument ${n} is not a bound value of ${query.sql}`);
    if (!statementNames.has(query.sql)) statementNames.set(query.sql, `openmumble_${statementNames.size + 1}`);
    return { query, slots };
  };
  return async (db: Kysely<DB>, ...args: Args): Promise<Row[]> => {
    // Same adapter class, same SQL dialect (a transaction shares its database's).
    const dialect = db.getExecutor().adapter.constructor;
    let entry = compiled.get(dialect);
    if (!entry) {
      entry = compile(db, args.length);
      compiled.set(dialect, entry);
    }
    const { query, slots } = entry;
    const parameters = slots.map((slot, n) => (slot < 0 ? query.parameters[n] : args[slot]));
    const result = await db.executeQuery<Row>({ ...query, parameters } as CompiledQuery<Row>);
    return result.rows;
  };
}
