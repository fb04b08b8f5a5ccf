import type { QuotaLimits, QuotaRemaining, RefusalReason } from "./quota-types.js";

/** A counter row's figures in one window; a row that does not exist yet is all zeros. */
export interface CounterState {
  readonly requests: number;
  readonly tokens: number;
}

export interface PlannedCounter {
  readonly key: string;
  readonly rowKey: string;
  readonly limits: QuotaLimits;
}

export interface AdmitOp {
  readonly kind: "admit";
  readonly counters: readonly PlannedCounter[];
  readonly estimatedTokens: number;
}

export interface ChargeOp {
  readonly kind: "charge";
  readonly rowKeys: readonly string[];
  readonly tokensDelta: number;
  /** A lease given back lowers the requests too; default 0. */
  readonly requestsDelta?: number;
}

/**
 * An instance's lease on several counters at once (leased-quota-store.ts): for each counter, `need`
 * must all be granted or the take is refused and nothing is written; `spare`, on top, is granted as
 * far as each counter's budget allows.
 */
export interface TakeOp {
  readonly kind: "take";
  readonly counters: readonly PlannedCounter[];
  /** Per counter, in the order of `counters`. */
  readonly need: readonly CounterState[];
  readonly spare: readonly CounterState[];
}

export type QuotaOp = AdmitOp | ChargeOp | TakeOp;

export type PlanOutcome =
  | { readonly kind: "admitted"; readonly remaining: Record<string, QuotaRemaining> }
  | {
      readonly kind: "refused";
      readonly reason: RefusalReason;
      readonly limiting: string;
      readonly limitingRowKey: string;
      readonly remaining: Record<string, QuotaRemaining>;
    }
  | { readonly kind: "charged" }
  | {
      readonly kind: "taken";
      /** Per counter, in the order given: at least its need. */
      readonly granted: CounterState[];
      /** Per counter key: what the counter has left to lease after this take. */
      readonly remaining: Record<string, QuotaRemaining>;
    };

export interface BatchPlan {
  /** One per op, in order. */
  readonly outcomes: PlanOutcome[];
  /** Every row the ops touch, after all of them. */
  readonly rows: ReadonlyMap<string, CounterState>;
  /** The rows whose figures differ from `current`: what the transaction writes. */
  readonly changed: readonly string[];
}

const ZERO: CounterState = { requests: 0, tokens: 0 };

/**
 * Applies a batch of admissions and charges, in order, to the rows as read: the decisions and the
 * figures one transaction then writes. Pure; the store retries it from fresh rows on a conflict.
 *
 * A request is refused when, for any of its counters, the estimate alone exceeds the tokens per
 * minute (`too_large`: it could never be admitted), or one more request exceeds the requests per
 * minute (`requests`), or the tokens are already at the limit or the estimate does not fit in
 * what is left (`tokens`). So a zero estimate is refused once the budget is spent, and a request
 * is never admitted on the hope that it will use less than it reserved. A charge moves tokens by
 * its delta, never below zero.
 */
export function planBatch(current: ReadonlyMap<string, CounterState>, ops: readonly QuotaOp[]): BatchPlan {
  const rows = new Map<string, CounterState>(current);
  const state = (rowKey: string) => rows.get(rowKey) ?? ZERO;
  const outcomes = ops.map((op): PlanOutcome => {
    if (op.kind === "charge") {
      for (const rowKey of op.rowKeys) {
        const row = state(rowKey);
        rows.set(rowKey, { requests: Math.max(0, row.requests + (op.requestsDelta ?? 0)), tokens: Math.max(0, row.tokens + op.tokensDelta) });
      }
      return { kind: "charged" };
    }
    if (op.kind === "take") return take(op, state, rows);
    const refusal = refusalOf(op, state);
    if (refusal) return { kind: "refused", ...refusal, remaining: remainingOf(op.counters, state) };
    for (const { rowKey } of op.counters) {
      const row = state(rowKey);
      rows.set(rowKey, { requests: row.requests + 1, tokens: row.tokens + op.estimatedTokens });
    }
    return { kind: "admitted", remaining: remainingOf(op.counters, state) };
  });
  const changed = [...rows.keys()].filter((rowKey) => {
    const before = current.get(rowKey) ?? ZERO;
    const after = state(rowKey);
    return before.requests !== after.requests || before.tokens !== after.tokens;
  });
  return { outcomes, rows, changed };
}

/**
 * A take is refused when some counter cannot grant its need: more requests than are left, or more
 * tokens than are left (a counter already over its tokens, by usage beyond reservations, has none).
 * A need of nothing is never refused. Otherwise each counter grants its need and as much of the
 * spare as is left after it.
 */
function take(op: TakeOp, state: (rowKey: string) => CounterState, rows: Map<string, CounterState>): PlanOutcome {
  const left = (counter: PlannedCounter): CounterState => {
    const row = state(counter.rowKey);
    return { requests: Math.max(0, counter.limits.requestsPerMinute - row.requests), tokens: Math.max(0, counter.limits.tokensPerMinute - row.tokens) };
  };
  for (const [i, counter] of op.counters.entries()) {
    const need = op.need[i] ?? ZERO;
    const available = left(counter);
    const reason = need.requests > available.requests ? "requests" : need.tokens > available.tokens ? "tokens" : undefined;
    if (reason) return { kind: "refused", reason, limiting: counter.key, limitingRowKey: counter.rowKey, remaining: remainingOf(op.counters, state) };
  }
  const granted = op.counters.map((counter, i) => {
    const need = op.need[i] ?? ZERO;
    const spare = op.spare[i] ?? ZERO;
    const available = left(counter);
    const grant = {
      requests: need.requests + Math.min(spare.requests, available.requests - need.requests),
      tokens: need.tokens + Math.min(spare.tokens, available.tokens - need.tokens),
    };
    const row = state(counter.rowKey);
    rows.set(counter.rowKey, { requests: row.requests + grant.requests, tokens: row.tokens + grant.tokens });
    return grant;
  });
  return { kind: "taken", granted, remaining: remainingOf(op.counters, state) };
}

function refusalOf(op: AdmitOp, state: (rowKey: string) => CounterState): { reason: RefusalReason; limiting: string; limitingRowKey: string } | undefined {
  const tooLarge = op.counters.find((c) => op.estimatedTokens > c.limits.tokensPerMinute);
  if (tooLarge) return { reason: "too_large", limiting: tooLarge.key, limitingRowKey: tooLarge.rowKey };
  for (const counter of op.counters) {
    const row = state(counter.rowKey);
    const limits = counter.limits;
    if (row.requests + 1 > limits.requestsPerMinute) {
      return { reason: "requests", limiting: counter.key, limitingRowKey: counter.rowKey };
    }
    if (row.tokens >= limits.tokensPerMinute || row.tokens + op.estimatedTokens > limits.tokensPerMinute) {
      return { reason: "tokens", limiting: counter.key, limitingRowKey: counter.rowKey };
    }
  }
  return undefined;
}

function remainingOf(counters: readonly PlannedCounter[], state: (rowKey: string) => CounterState): Record<string, QuotaRemaining> {
  return Object.fromEntries(
    counters.map(({ key, rowKey, limits }) => {
      const row = state(rowKey);
      return [key, { requests: Math.max(0, limits.requestsPerMinute - row.requests), tokens: Math.max(0, limits.tokensPerMinute - row.tokens) }];
    }),
  );
}
