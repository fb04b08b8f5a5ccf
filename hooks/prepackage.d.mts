export declare const STAGING_DIR: string;

export type RunCommand = (command: string, args: readonly string[], cwd: string) => void;

export declare function runCommand(command: string, args: readonly string[], cwd: string): void;

export declare function stagePackage(options: { projectDir: string; outDir?: string; run?: RunCommand }): string;
