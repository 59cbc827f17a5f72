/**
 * The score panel's "most unusual areas" in words and the layout of its image views. Pure (no DOM),
 * so the unit tests run it in Node (test/unit/ext-score-view.test.ts).
 */
import type { ViewMode } from '../../../shared/protocol';

export interface Patch {
  x: number;
  y: number;
  w: number;
  h: number;
  score: number;
}

/** The tooltip over the list and the boxes: what the numbers are, for someone who never read the paper. */
export const PATCHES_HELP =
  'The numbered boxes are the areas where the model\'s reconstruction of the image differs most from the image itself: ' +
  'the model learned what normal images look like, so the area it cannot rebuild is the most unusual one. ' +
  '1 is the most unusual area. The error is the average difference in the box (0 = identical).';

/** Where a box lies, in words a person uses ("top left", "centre"). */
export function regionWords(p: Pick<Patch, 'x' | 'y' | 'w' | 'h'>, width: number, height: number): string {
  const cx = (p.x + p.w / 2) / Math.max(1, width);
  const cy = (p.y + p.h / 2) / Math.max(1, height);
  const v = cy < 1 / 3 ? 'top' : cy > 2 / 3 ? 'bottom' : '';
  const h = cx < 1 / 3 ? 'left' : cx > 2 / 3 ? 'right' : '';
  return v && h ? `${v} ${h}` : v || h || 'centre';
}

/** One line per box: its number, where it is, its size, and how its error compares with the strongest. */
export function describePatch(p: Patch, index: number, all: readonly Patch[], width: number, height: number): string {
  const top = all[0]?.score ?? p.score;
  const rel = index === 0 ? 'the most unusual area' : top > 0 ? `${Math.round((100 * p.score) / top)} % of the strongest area's error` : 'as unusual as the strongest area';
  return `${index + 1}. ${regionWords(p, width, height)}, ${p.w}×${p.h} px at x ${p.x}, y ${p.y}: ${rel} (error ${p.score.toPrecision(3)})`;
}

/** The box under an image pixel (the first, i.e. most unusual, when boxes overlap); null when none. */
export function patchAt(patches: readonly Patch[], x: number, y: number): number | null {
  const i = patches.findIndex((p) => x >= p.x && x < p.x + p.w && y >= p.y && y < p.y + p.h);
  return i < 0 ? null : i;
}

/** How the image and its heatmap are shown (the names travel in host messages: shared/protocol.ts). */
export type { ViewMode };
export const VIEW_MODES: readonly { mode: ViewMode; label: string }[] = [
  { mode: 'side', label: 'side by side' },
  { mode: 'swipe', label: 'swipe' },
  { mode: 'toggle', label: 'toggle' },
  { mode: 'blend', label: 'blend' },
];

/** What a pane of the main canvas shows: the plain image, the heatmap alone, or the heatmap over the image. */
export type PaneContent = 'image' | 'heat' | 'blend';
export interface Pane {
  x: number;
  content: PaneContent;
  /** Swipe: the share of the pane's width (from the left) that shows the heatmap. */
  clip?: number;
}

/**
 * The main canvas for an image of w×h drawn at scale k: its size and its panes. Side by side puts
 * the image and its heatmap next to each other with a gap; swipe draws the heatmap over the image up
 * to the slider; toggle shows one or the other.
 */
export function viewLayout(mode: ViewMode, w: number, h: number, k: number, opts: { swipe: number; showHeat: boolean }): { width: number; height: number; panes: Pane[] } {
  const W = w * k;
  const H = h * k;
  switch (mode) {
    case 'side': {
      const gap = Math.max(4, Math.round(W / 32));
      return { width: 2 * W + gap, height: H, panes: [{ x: 0, content: 'image' }, { x: W + gap, content: 'heat' }] };
    }
    case 'swipe':
      return { width: W, height: H, panes: [{ x: 0, content: 'image' }, { x: 0, content: 'heat', clip: Math.min(1, Math.max(0, opts.swipe)) }] };
    case 'toggle':
      return { width: W, height: H, panes: [{ x: 0, content: opts.showHeat ? 'heat' : 'image' }] };
    case 'blend':
      return { width: W, height: H, panes: [{ x: 0, content: 'blend' }] };
  }
}

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Whether two labels touch or come closer than `pad`: numbers side by side read as one ("2" "1" as "21"). */
const near = (a: Rect, b: Rect, pad: number) => a.x < b.x + b.w + pad && b.x < a.x + a.w + pad && a.y < b.y + b.h + pad && b.y < a.y + a.h + pad;

/**
 * Where each box's number goes (canvas pixels, box i scaled by k): inside a corner of its box, the
 * first corner whose label keeps half a label's height from every number already placed, so
 * overlapping boxes stay readable. Falls back to the top-left corner.
 */
export function labelPositions(list: readonly Pick<Patch, 'x' | 'y' | 'w' | 'h'>[], k: number, labelW: number, labelH: number): Rect[] {
  const placed: Rect[] = [];
  const pad = labelH / 2;
  for (const p of list) {
    const x0 = p.x * k, y0 = p.y * k, x1 = (p.x + p.w) * k, y1 = (p.y + p.h) * k;
    const corners: Rect[] = [
      { x: x0, y: y0, w: labelW, h: labelH },
      { x: x1 - labelW, y: y1 - labelH, w: labelW, h: labelH },
      { x: x1 - labelW, y: y0, w: labelW, h: labelH },
      { x: x0, y: y1 - labelH, w: labelW, h: labelH },
    ];
    placed.push(corners.find((c) => !placed.some((q) => near(c, q, pad))) ?? corners[0]);
  }
  return placed;
}
