import path from 'node:path';
import { build, defineConfig, type Plugin } from 'vite';
import fillConfig from './vite.fill.config.js';

/** The form-filling page is a build of its own (see vite.fill.config.ts), run when this one has written its files. */
function fillPage(): Plugin {
  return {
    name: 'fieldkeep-fill-page',
    apply: 'build',
    async closeBundle(error) {
      if (error === undefined) await build({ ...fillConfig, configFile: false });
    },
  };
}

/** Components are TSX compiled to Vue's h() calls, so `tsc` type-checks them with no template compiler. */
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  oxc: { jsx: { runtime: 'classic', pragma: 'h', pragmaFrag: 'Fragment' } },
  plugins: [fillPage()],
  build: {
    outDir: path.resolve(import.meta.dirname, '..', 'dist', 'spa'),
    emptyOutDir: true,
    target: 'es2022',
    // One style file per chunk, never injected inline: the policy allows style-src 'self' only.
    cssCodeSplit: true,
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
  define: { __VUE_OPTIONS_API__: 'false', __VUE_PROD_DEVTOOLS__: 'false', __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false' },
  server: { proxy: { '/api': 'http://127.0.0.1:8080' } },
});
