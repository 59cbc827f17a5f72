// Writes the extension-owned keys of package.json (contributes, activationEvents, capabilities and
// the scripts "package" and "test:vscode"), leaving every other key as it is on disk right now.
// Usage: node extension/manifest.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'package.json');
const pkg = JSON.parse(readFileSync(file, 'utf8'));
// The explorer menus' image files: DATASET_IMAGE_EXTENSIONS in scorer/image-extensions.ts (a plain .mjs cannot
// import it; test/unit/image-extensions.test.ts checks that the two agree).
const IMG = 'resourceExtname =~ /^\\.(png|jpe?g|bmp|tiff?|webp)$/i';
const cat = 'Flawscope';
const cmd = (command, title, icon, extra = {}) => ({ command, title, category: cat, ...(icon ? { icon: `$(${icon})` } : {}), ...extra });

// onWebviewPanel: the panels extension/restore.ts brings back after a reload (VS Code activates the
// extension for a restored panel before onStartupFinished would).
export const RESTORABLE_VIEW_TYPES = ['flawscope.score', 'flawscope.folder', 'flawscope.dashboard', 'flawscope.evalReport', 'flawscope.datasetReport', 'flawscope.gridReport'];
pkg.activationEvents = ['onStartupFinished', ...RESTORABLE_VIEW_TYPES.map((t) => `onWebviewPanel:${t}`)];
pkg.capabilities = {
  untrustedWorkspaces: {
    supported: 'limited',
    description: 'In Restricted Mode Flawscope scores images but does not train or start any process (the trainer runs Node from your settings on workspace data).',
    restrictedConfigurations: ['flawscope.nodePath', 'flawscope.modelsFolder'],
  },
  virtualWorkspaces: { supported: false, description: 'Training and scoring read local files.' },
};
pkg.contributes = {
  viewsContainers: { activitybar: [{ id: 'flawscope', title: 'Flawscope', icon: 'media/icon.svg' }] },
  views: {
    flawscope: [
      { id: 'flawscope.datasets', name: 'Datasets', icon: 'media/icon.svg' },
      { id: 'flawscope.models', name: 'Models', icon: 'media/icon.svg' },
      { id: 'flawscope.runs', name: 'Runs', icon: 'media/icon.svg' },
    ],
  },
  viewsWelcome: [
    { view: 'flawscope.datasets', contents: 'Add a folder of images (one sub-folder per class, MVTec AD, IDX or CIFAR) to train an anomaly detector.\n[Add Dataset](command:flawscope.addDataset)' },
    { view: 'flawscope.models', contents: 'No trained models yet.\n[Train Model](command:flawscope.trainModel)\nModels are saved under the folder set by "flawscope.modelsFolder".' },
    { view: 'flawscope.runs', contents: 'Trainings you start appear here.' },
  ],
  commands: [
    cmd('flawscope.addDataset', 'Add Dataset', 'add'),
    cmd('flawscope.inspectDataset', 'Inspect Dataset', 'search', { enablement: 'isWorkspaceTrusted' }),
    cmd('flawscope.removeDataset', 'Remove Dataset', 'remove'),
    cmd('flawscope.trainModel', 'Train Model', 'play'),
    cmd('flawscope.cancelTraining', 'Cancel Training', 'debug-stop'),
    cmd('flawscope.resumeTraining', 'Resume Training', 'debug-continue'),
    cmd('flawscope.showDashboard', 'Show Training Dashboard', 'graph-line'),
    cmd('flawscope.deleteRun', 'Delete Run', 'trash'),
    cmd('flawscope.clearFinishedRuns', 'Clear Finished Runs', 'clear-all'),
    cmd('flawscope.revealRun', 'Reveal Run Output in Explorer', 'folder-opened'),
    cmd('flawscope.scoreImage', 'Score Image', 'telescope'),
    cmd('flawscope.scoreFolder', 'Score Folder', 'list-ordered'),
    cmd('flawscope.openHeatmapPanel', 'Open Heatmap Panel', 'flame'),
    cmd('flawscope.selectActiveModel', 'Select Active Model', 'check'),
    cmd('flawscope.evaluateModel', 'Evaluate Model', 'beaker'),
    cmd('flawscope.gridSearch', 'Grid Search (Loss Weights)', 'symbol-numeric'),
    cmd('flawscope.revealModel', 'Reveal Model Folder', 'folder-opened'),
    cmd('flawscope.deleteModel', 'Delete Model', 'trash'),
    cmd('flawscope.refresh', 'Refresh Views', 'refresh'),
    cmd('flawscope.showLog', 'Show Log', 'output'),
  ],
  menus: {
    commandPalette: [
      { command: 'flawscope.removeDataset', when: 'false' },
      { command: 'flawscope.resumeTraining', when: 'false' },
      { command: 'flawscope.deleteRun', when: 'false' },
      { command: 'flawscope.revealRun', when: 'false' },
      { command: 'flawscope.revealModel', when: 'false' },
      { command: 'flawscope.deleteModel', when: 'false' },
      { command: 'flawscope.cancelTraining', when: 'flawscope.training' },
    ],
    'explorer/context': [
      { command: 'flawscope.scoreImage', when: `!explorerResourceIsFolder && ${IMG}`, group: 'flawscope@1' },
      { command: 'flawscope.scoreFolder', when: 'explorerResourceIsFolder', group: 'flawscope@2' },
      { command: 'flawscope.addDataset', when: 'explorerResourceIsFolder', group: 'flawscope@3' },
    ],
    'editor/title': [{ command: 'flawscope.scoreImage', when: IMG, group: 'navigation' }],
    'editor/title/context': [{ command: 'flawscope.scoreImage', when: IMG, group: 'flawscope' }],
    'view/title': [
      { command: 'flawscope.addDataset', when: 'view == flawscope.datasets', group: 'navigation@1' },
      { command: 'flawscope.trainModel', when: 'view == flawscope.models', group: 'navigation@1' },
      { command: 'flawscope.refresh', when: 'view == flawscope.models || view == flawscope.datasets', group: 'navigation@9' },
      { command: 'flawscope.cancelTraining', when: 'view == flawscope.runs && flawscope.training', group: 'navigation@1' },
      { command: 'flawscope.clearFinishedRuns', when: 'view == flawscope.runs', group: 'navigation@9' },
    ],
    'view/item/context': [
      { command: 'flawscope.inspectDataset', when: 'view == flawscope.datasets && viewItem == flawscope.dataset', group: 'inline@1' },
      { command: 'flawscope.trainModel', when: 'view == flawscope.datasets && viewItem == flawscope.dataset', group: 'inline@2' },
      { command: 'flawscope.removeDataset', when: 'view == flawscope.datasets && viewItem == flawscope.dataset', group: '9_remove' },
      { command: 'flawscope.selectActiveModel', when: 'view == flawscope.models && viewItem == flawscope.model', group: 'inline@1' },
      { command: 'flawscope.revealModel', when: 'view == flawscope.models && viewItem =~ /^flawscope\\.model/', group: '1_model@1' },
      { command: 'flawscope.evaluateModel', when: 'view == flawscope.models && viewItem =~ /^flawscope\\.model/', group: '1_model@2' },
      { command: 'flawscope.deleteModel', when: 'view == flawscope.models && viewItem =~ /^flawscope\\.model/', group: '9_delete' },
      { command: 'flawscope.cancelTraining', when: 'view == flawscope.runs && viewItem == flawscope.run.running', group: 'inline@1' },
      { command: 'flawscope.resumeTraining', when: 'view == flawscope.runs && viewItem == flawscope.run.resumable', group: 'inline@1' },
      { command: 'flawscope.showDashboard', when: 'view == flawscope.runs', group: '1_run@1' },
      { command: 'flawscope.revealRun', when: 'view == flawscope.runs', group: '1_run@2' },
      { command: 'flawscope.deleteRun', when: 'view == flawscope.runs && viewItem != flawscope.run.running', group: '9_delete' },
    ],
  },
  configuration: {
    title: 'Flawscope',
    properties: {
      'flawscope.nodePath': { type: 'string', default: '', scope: 'machine-overridable', markdownDescription: 'Node.js (20 or newer) used to run the trainer. Empty = `node` on PATH. The trainer always runs in this separate process, never inside VS Code.' },
      'flawscope.defaultPreset': { type: 'string', enum: ['quick', 'standard', 'paper', 'custom'], default: 'quick', enumDescriptions: ["32 px, 3 epochs, batch 32, lr 1e-3, no augmentation (the CLI's quick budget)", '32 px, 15 epochs, batch 64, lr 1e-3, no augmentation (the PyTorch reference budget)', 'the paper (Table 3): 128 px, 300 epochs, batch 1, lr 1e-4 halved every 50 epochs', 'ask for size, epochs, batch and loss weights'], description: 'Preset offered first by Train Model.' },
      'flawscope.colormap': { type: 'string', enum: ['turbo', 'viridis', 'grey'], default: 'turbo', description: 'Colormap of the heatmap overlay.' },
      'flawscope.overlayOpacity': { type: 'number', default: 0.5, minimum: 0, maximum: 1, description: 'Opacity of the heatmap overlay (0–1).' },
      'flawscope.thresholdOverride': { type: ['number', 'null'], default: null, markdownDescription: 'Anomaly threshold to use instead of the model\'s own (from `flawscope.json`). `null` = the model\'s.' },
      'flawscope.modelsFolder': { type: 'string', default: '', scope: 'resource', markdownDescription: 'Where trained models are saved and listed. Empty = `.flawscope/models` in the workspace. Relative paths are resolved against the workspace folder.' },
    },
  },
};
pkg.scripts = { ...pkg.scripts, package: 'node esbuild.mjs && vsce package --no-rewrite-relative-links --no-git-tag-version --allow-missing-repository --skip-license -o flawscope.vsix', 'test:vscode': 'bash test/vscode/run.sh' };
writeFileSync(file, JSON.stringify(pkg, null, 2) + '\n');
console.log('package.json: wrote contributes, activationEvents, capabilities, scripts.package, scripts["test:vscode"]');
