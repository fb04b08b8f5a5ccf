/**
 * A time as a query literal. Times compared in a query are written as Edm.DateTime (a `Date`): Table
 * Storage compares a property only with a literal of its own type, and a millisecond count would be
 * stored as an Int32 or a Double depending on its size.
 */
export const dateTime = (ms: number) => `datetime'${new Date(ms).toISOString()}'`;
