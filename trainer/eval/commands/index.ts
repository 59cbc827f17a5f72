/**
 * `flawscope eval | reproduce | grid | ablation`: evaluation and the paper's experiments, one file
 * per command (each reads its command line with its options table; shared.ts holds what they
 * share). Each returns an exit code: 0 ok, 1 a run failed, 2 bad input (the message names the flag or file).
 */
export { runEvalCommand, EVAL_OPTIONS } from './eval';
export { runReproduceCommand, REPRODUCE_OPTIONS } from './reproduce';
export { runGridCommand, GRID_OPTIONS } from './grid';
export { ablationRows, runAblationCommand, ABLATION_OPTIONS } from './ablation';
