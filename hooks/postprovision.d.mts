export declare function postProvisionMessage(env: Readonly<Record<string, string | undefined>>): string;
export declare function sampleKeyMessage(env: Readonly<Record<string, string | undefined>>, outcome: { action: string; refreshed?: boolean } | Error): string;
