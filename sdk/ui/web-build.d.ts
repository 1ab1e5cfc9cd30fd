// Types of web-build.js (plain JavaScript so that sdk/cli/build.js can run it without a loader).
export declare const WEB_DIR: string;
export declare const WEB_OUT: string;
export declare function newestWebSource(root: string): number;
export declare function buildWeb(root: string, outdir: string): Promise<undefined>;
export declare function buildWeb(root: string): Promise<{ js: string; css: string }>;
