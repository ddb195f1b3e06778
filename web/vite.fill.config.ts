import path from 'node:path';
import { defineConfig, type Plugin, type Rollup } from 'vite';

const FILL_ENTRY = path.resolve(import.meta.dirname, 'fill.html');
/** The service worker keeps a fixed address (browsers look for updates there) under its scope, /fill/. */
const SERVICE_WORKER_FILE = 'fill/sw.js';
/** In the worker's source, the stand-in for its precache list (see fillPrecache). */
const PRECACHE_PLACEHOLDER = 'FILL_PRECACHE';

/**
 * Writes into the form-filling service worker the files it precaches: the fill page's entry with
 * every chunk and style it imports, at once or later (the form engine is loaded on demand), and
 * the page itself. The worker's bytes change with every build whose files change, which is what
 * makes browsers install the new one.
 */
function fillPrecache(): Plugin {
  return {
    name: 'fieldkeep-fill-precache',
    apply: 'build',
    generateBundle(_options, bundle) {
      const worker = bundle[SERVICE_WORKER_FILE];
      if (worker?.type !== 'chunk') throw new Error(`${SERVICE_WORKER_FILE} was not built`);
      if (worker.imports.length > 0 || worker.dynamicImports.length > 0) throw new Error(`${SERVICE_WORKER_FILE} must not import other chunks: a classic worker script cannot`);
      const entry = Object.values(bundle).find((file): file is Rollup.OutputChunk => file.type === 'chunk' && file.isEntry && file.facadeModuleId === FILL_ENTRY);
      if (entry === undefined) throw new Error('the fill page entry was not built');
      const files = new Set<string>();
      const visit = (name: string) => {
        const chunk = bundle[name];
        if (chunk === undefined || files.has(name)) return;
        files.add(name);
        if (chunk.type !== 'chunk') return;
        for (const css of chunk.viteMetadata?.importedCss ?? []) files.add(css);
        for (const asset of chunk.viteMetadata?.importedAssets ?? []) files.add(asset);
        for (const next of [...chunk.imports, ...chunk.dynamicImports]) visit(next);
      };
      visit(entry.fileName);
      const urls = ['/fill/', '/fill/manifest.webmanifest', '/favicon.svg', ...[...files].sort().map((file) => `/${file}`)];
      const occurrences = worker.code.split(PRECACHE_PLACEHOLDER).length - 1;
      if (occurrences !== 1) throw new Error(`${SERVICE_WORKER_FILE} names ${PRECACHE_PLACEHOLDER} ${occurrences} times; it must name it once`);
      worker.code = worker.code.replace(PRECACHE_PLACEHOLDER, JSON.stringify(JSON.stringify(urls)));
    },
  };
}

/**
 * The form-filling page (/fill/…), built on its own after the application (web/vite.config.ts
 * runs this build when its own ends) into the same directory. It is a separate build because ODK
 * Web Forms' components (PrimeVue) use Vue's Options API, which the application leaves out of its
 * Vue; and a separate page because it needs a looser policy (inline styles, WebAssembly) that the
 * application's pages must not get. Nothing of it is in the application's first load.
 */
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  publicDir: false,
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'classic', pragma: 'h', pragmaFrag: 'Fragment' } },
  plugins: [fillPrecache()],
  build: {
    outDir: path.resolve(import.meta.dirname, '..', 'dist', 'spa'),
    emptyOutDir: false,
    target: 'es2022',
    cssCodeSplit: true,
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
    // ODK Web Forms is one chunk of about 2.3 MB (its engine, PrimeVue and the XPath parser), loaded on demand.
    chunkSizeWarningLimit: 2500,
    rolldownOptions: {
      input: { fill: FILL_ENTRY, 'fill-sw': path.resolve(import.meta.dirname, 'src', 'fill', 'sw.ts') },
      output: { entryFileNames: (chunk) => (chunk.name === 'fill-sw' ? SERVICE_WORKER_FILE : 'assets/[name]-[hash].js') },
    },
  },
  define: { __VUE_OPTIONS_API__: 'true', __VUE_PROD_DEVTOOLS__: 'false', __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false' },
});
