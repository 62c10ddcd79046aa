import type { Metafile } from 'esbuild';
/** Bundles one entry like `npm run build` does; returns esbuild's metafile. */
export function bundle(entry: string, outfile: string, absWorkingDir?: string): Promise<Metafile>;
