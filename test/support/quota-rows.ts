import { TableClient } from "@azure/data-tables";
import { inject } from "vitest";

/**
 * A caller's admitted requests in a quota table, summed over every minute's window: a test that counts
 * admissions this way cannot be fooled by crossing into a new window (where `x-ratelimit-remaining-*`
 * start again from the limit).
 */
export async function admittedRequests(table: string, callerKey = "caller:key:dev"): Promise<number> {
  const rows = TableClient.fromConnectionString(inject("storageConnectionString"), table, { allowInsecureConnection: true });
  let requests = 0;
  for await (const row of rows.listEntities<{ requests: number }>({ queryOptions: { filter: `RowKey eq '${callerKey}'` } })) requests += row.requests;
  return requests;
}
