export declare const STAGING_DIR: string;

export declare const BUNDLE: string;

export declare const LOADED_ON_FIRST_USE: readonly string[];

export type RunCommand = (command: string, args: readonly string[], cwd: string) => void;

export declare function runCommand(command: string, args: readonly string[], cwd: string): void;

export declare function stagePackage(options: { projectDir: string; outDir?: string; run?: RunCommand }): Promise<string>;
