// `npm run build` in an app (or packages/db): one ESM file with the workspace packages (@im/*)
// bundled in and every dependency from the registry left to node_modules, where the image installs
// production dependencies only.
//   node ../../scripts/build-app.mjs [ENTRY OUTFILE]   (default: src/main.ts dist/main.js)
import { build } from 'esbuild';

/** Bundles one entry; returns esbuild's metafile (the test checks its externals are production dependencies). */
export async function bundle(entry, outfile, absWorkingDir = process.cwd()) {
  const result = await build({
    absWorkingDir,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
    plugins: [
      {
        name: 'registry-packages-external',
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) => (args.path.startsWith('@im/') ? undefined : { path: args.path, external: true }));
        },
      },
    ],
  });
  return result.metafile;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [entry = 'src/main.ts', outfile = 'dist/main.js'] = process.argv.slice(2);
  await bundle(entry, outfile);
}
