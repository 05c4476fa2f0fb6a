import { defineConfig } from 'vite';

// The inbox is served by openmumble at /app (src/modules/web-app); its build goes beside the server's, in dist/web.
export default defineConfig({
  root: import.meta.dirname,
  base: '/app/',
  publicDir: 'public',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    target: 'es2022',
    assetsDir: 'assets',
    reportCompressedSize: false,
  },
  server: { proxy: { '/app/api': 'http://127.0.0.1:3000' } },
});
