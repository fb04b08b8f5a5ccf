import type { TokenCredential } from "@azure/core-auth";

export declare const SAMPLE_KEY_NAME: string;
export declare function callerKeyEntry(name: string, key: string): string;
export declare function withSampleEntry(current: string | undefined, entry: string | undefined): string;
export declare function syncSampleKey(
  env: Readonly<Record<string, string | undefined>>,
  options?: { credential?: TokenCredential; fetch?: typeof fetch },
): Promise<{ action: "skipped" | "unchanged" | "added" | "updated" | "removed"; refreshed?: boolean }>;
