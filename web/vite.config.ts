import path from 'node:path';
import { defineConfig } from 'vite';

/** Components are TSX compiled to Vue's h() calls, so `tsc` type-checks them with no template compiler. */
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  oxc: { jsx: { runtime: 'classic', pragma: 'h', pragmaFrag: 'Fragment' } },
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
