import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Root is src/web; the build goes to dist/web, which Fastify serves at `/` (src/http/web.ts).
export default defineConfig({
  root: import.meta.dirname,
  base: '/',
  plugins: [react()],
  build: {
    outDir: '../../dist/web',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1200,
  },
});
