/**
 * What the score and folder panels save for a window reload (ScorePanel/FolderPanel.restoreData),
 * checked by extension/restore.ts before a panel is rebuilt from it. No `vscode` import, so the
 * unit tests parse old and new states in plain Node.
 */
import { z } from 'zod';
import { DEFAULT_VIEW_MODE, VIEW_MODE_NAMES } from '../../shared/protocol';

/**
 * The model, the image last scored and the view it was shown in. A state saved before the view
 * was kept has no `viewMode`: it restores in the default view rather than not at all.
 */
export const scorePanelState = z.object({
  model: z.string().nullable(),
  image: z.string().nullable(),
  viewMode: z.enum(VIEW_MODE_NAMES).default(DEFAULT_VIEW_MODE),
});
export type ScorePanelState = z.output<typeof scorePanelState>;

/** The model and the folder scored. */
export const folderPanelState = z.object({ model: z.string(), folder: z.string() });
export type FolderPanelState = z.output<typeof folderPanelState>;
