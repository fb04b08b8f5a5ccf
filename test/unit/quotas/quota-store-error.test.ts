import { describe, expect, it } from "vitest";
import { QuotaStoreError, toQuotaStoreError } from "../../../src/quotas/quota-store-error.js";

/** Shaped like the storage SDK's RestError. */
const restError = (statusCode: number | undefined, code: string | undefined, message = "https://acct.table.core.windows.net/?sig=SECRET") =>
  Object.assign(new Error(message), { name: "RestError", statusCode, code });

describe("toQuotaStoreError", () => {
  it.each([
    [undefined, "ECONNREFUSED", "unreachable"],
    [412, "UpdateConditionNotSatisfied", "conflict"],
    [409, "EntityAlreadyExists", "conflict"],
    [409, "TableBeingDeleted", "storage"],
    [503, "ServerBusy", "throttled"],
    [429, undefined, "throttled"],
    [403, "AuthorizationFailure", "rejected"],
    [401, undefined, "rejected"],
    [500, "InternalError", "storage"],
  ] as const)("maps status %s (%s) to %s", (status, code, expected) => {
    const error = toQuotaStoreError(restError(status, code), false, 1000);
    expect(error).toBeInstanceOf(QuotaStoreError);
    expect(error.code).toBe(expected);
    expect(error.status).toBe(status);
    expect(error.storageCode).toBe(code);
  });

  it("says timeout when our own timer aborted the call, whatever the SDK threw", () => {
    const error = toQuotaStoreError(Object.assign(new Error("The operation was aborted."), { name: "AbortError" }), true, 1500);
    expect(error).toMatchObject({ code: "timeout", message: "Quota storage did not answer within 1500 ms." });
  });

  it("never carries the SDK's message, a cause, or an odd error code", () => {
    const error = toQuotaStoreError(restError(500, "has spaces and ?sig=SECRET"), false, 1000);
    expect(error.message).toBe("Quota storage failed (status 500).");
    expect(error.storageCode).toBeUndefined();
    expect(error.cause).toBeUndefined();
    expect(JSON.stringify({ ...error, message: error.message })).not.toContain("SECRET");
  });

  it("passes a QuotaStoreError through", () => {
    const original = new QuotaStoreError("conflict", "x");
    expect(toQuotaStoreError(original, true, 1)).toBe(original);
  });
});
