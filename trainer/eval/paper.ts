/**
 * Published reference figures shown beside ours in the reports. Only numbers we can vouch for are
 * listed: the per-dataset averages of Kim et al. (2020) Table 5 and of ARNet as stated in issue 8
 * (and on paperswithcode for Kim et al.), plus the four per-class figures of Kim et al. quoted by the
 * team's PyTorch reference notes (shared/bench/README.md). Every other per-class cell of the paper's
 * Table 5 and Table 6 is left empty ("–") on purpose: we would rather show a gap than a misremembered
 * number. AUROC in percent.
 */

export type BenchDataset = 'mnist' | 'fashion-mnist' | 'cifar10' | 'cifar100' | 'magnetic-tile';

export interface ReferenceRow {
  method: string;
  /** Per normal class (by class id as a string); absent = not known to us. */
  perClass: Record<string, number>;
  average: number | null;
  sd: number | null;
  source: string;
}

const KIM = 'Kim et al. 2020, Table 5 (300 epochs, batch 1)';
const ARNET = 'ARNet (Ye et al.), as quoted in Kim et al. Table 5';

export const PAPER_TABLE5: Partial<Record<BenchDataset, { ours: ReferenceRow; arnet: ReferenceRow }>> = {
  mnist: {
    ours: { method: 'Kim et al. (paper)', perClass: { '1': 99.9, '8': 99.5 }, average: 99.7, sd: null, source: KIM },
    arnet: { method: 'ARNet', perClass: {}, average: 98.3, sd: null, source: ARNET },
  },
  'fashion-mnist': {
    ours: { method: 'Kim et al. (paper)', perClass: { '6': 95.9 }, average: 98.6, sd: null, source: KIM },
    arnet: { method: 'ARNet', perClass: {}, average: 93.9, sd: null, source: ARNET },
  },
  cifar10: {
    ours: { method: 'Kim et al. (paper)', perClass: { '2': 86.9 }, average: 90.6, sd: null, source: KIM },
    arnet: { method: 'ARNet', perClass: {}, average: 86.6, sd: null, source: ARNET },
  },
};

/** Table 6 (ablation, CIFAR-10 bird as normal): only the two figures we can vouch for. */
export const PAPER_TABLE6: Record<string, number> = {
  all: 86.9, // all losses = the Table 5 bird figure
};

/** Class names of the benchmark sets, by class id (the readers' class names). */
export const CLASS_NAMES: Partial<Record<BenchDataset, string[]>> = {
  mnist: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  'fashion-mnist': ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'],
  cifar10: ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
};

export const DATASET_TITLES: Record<BenchDataset, string> = {
  mnist: 'MNIST',
  'fashion-mnist': 'Fashion-MNIST',
  cifar10: 'CIFAR-10',
  cifar100: 'CIFAR-100 (20 superclasses)',
  'magnetic-tile': 'Magnetic tile',
};
