// Types of bin/build.js (plain JavaScript so it runs before anything is compiled), for the tests.
export declare const ROOT: string;
export declare const STAMP: string;
export declare const COMPILED_CLI: string;
export declare function buildIsFresh(root?: string): boolean;
export declare function build(opts?: { ifStale?: boolean }): number;
