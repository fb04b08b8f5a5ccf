export declare function preProvisionProblems(env: Readonly<Record<string, string | undefined>>): string[];
export declare function regionProblems(env: Readonly<Record<string, string | undefined>>, regions?: unknown): string[];
