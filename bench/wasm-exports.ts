/**
 * Export name → function index of each function a WebAssembly module exports, read from its export section (section
 * 7; pglite.wasm has no name section). bench/cpu-profile-breakdown.ts names PGlite's engine functions with it, and
 * tests/foundation/node-flags.test.ts checks the index the product's `--wasm-tier-up-filter` names.
 */
export function wasmFunctionExports(buf: Buffer): Map<string, number> {
  const out = new Map<string, number>();
  let i = 8;
  const leb = () => {
    let r = 0;
    let shift = 0;
    let b: number;
    do {
      b = buf[i++] ?? 0;
      r += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    return r;
  };
  while (i < buf.length) {
    const section = buf[i++];
    const size = leb();
    const end = i + size;
    if (section === 7) {
      const count = leb();
      for (let k = 0; k < count; k++) {
        const len = leb();
        const name = buf.toString('utf8', i, i + len);
        i += len;
        const kind = buf[i++];
        const index = leb();
        if (kind === 0) out.set(name, index);
      }
    }
    i = end;
  }
  return out;
}
