export declare function preProvisionProblems(env: Readonly<Record<string, string | undefined>>): string[];
