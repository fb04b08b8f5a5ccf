export declare function nextResourceSuffix(current?: string): string;
