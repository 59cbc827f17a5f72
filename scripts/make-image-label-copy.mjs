// Makes an image-labels-only view of a defect set with sibling masks (Magnetic tile's
// MT_<Class>/Imgs/<name>.jpg + <name>.png): OUT/<class>/<name>.jpg as symbolic links to the
// photos, the masks left out, so `flawscope train --preset defects` sees class folders with
// image labels only (issue 24's "with image labels only" row). Nothing is copied.
// Usage: node scripts/make-image-label-copy.mjs SRC_DIR OUT_DIR
// e.g.   node scripts/make-image-label-copy.mjs /tmp/mt /tmp/mt-image-labels
import { existsSync, mkdirSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';

const [src, out] = process.argv.slice(2);
if (!src || !out) {
  console.error('usage: node scripts/make-image-label-copy.mjs SRC_DIR OUT_DIR');
  process.exit(2);
}
// A new folder only: this script never replaces or deletes anything.
if (existsSync(out)) {
  console.error(`${out}: exists; name a new folder`);
  process.exit(2);
}
const PHOTO = new Set(['.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp']);
/** Every photo under dir (masks are the PNG siblings, so PNGs are skipped). */
function photos(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return photos(p);
    return PHOTO.has(extname(f).toLowerCase()) ? [p] : [];
  });
}
let total = 0;
for (const cls of readdirSync(src).sort()) {
  const dir = join(src, cls);
  if (!statSync(dir).isDirectory()) continue;
  const list = photos(dir);
  if (!list.length) continue;
  mkdirSync(join(out, cls), { recursive: true });
  for (const p of list) symlinkSync(resolve(p), join(out, cls, basename(p)));
  console.log(`${cls}: ${list.length} photos`);
  total += list.length;
}
console.log(`${total} links under ${out}, no masks`);
