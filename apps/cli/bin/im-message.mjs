#!/usr/bin/env node
// The im-message command line in a checkout: its bundle (apps/cli/dist/main.js, rebuilt with
// esbuild when older than the sources, as the roles' bundles are), so each call starts in a
// fraction of the time the TypeScript sources through a loader would take.
import { ensureBundles, roleBundle } from '../../../scripts/lib.mjs';

await ensureBundles(['cli']);
await import(roleBundle('cli'));
