export declare function postProvisionMessage(env: Readonly<Record<string, string | undefined>>): string;
