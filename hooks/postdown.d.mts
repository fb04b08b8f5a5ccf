export declare function nextResourceSuffix(current?: string): string;
export declare function setSuffixCommand(env: Readonly<Record<string, string | undefined>>): [string, string[]];
