// `npm run build` in an app: one ESM file, dist/main.js, with the workspace packages (@im/*)
// bundled in and every dependency from the registry left to node_modules.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/main.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
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
