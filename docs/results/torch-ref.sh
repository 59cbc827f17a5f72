#!/usr/bin/env bash
# Runs the team's PyTorch reference (shared/bench/torch_train_ref.py) at the same budget as a
# Flawscope `reproduce` run, on the same reduced training copy, for a side-by-side.
#   [SEED=N] docs/results/torch-ref.sh mnist|fmnist|cifar10 EPOCHS BATCH PER_CLASS "0 1 2 ..." OUT.jsonl
# PER_CLASS = training images per class kept by `reproduce --train-per-class` (quick: 1000); the
# reference then trains on PER_CLASS normal images and PER_CLASS/9 per anomaly class (lr 1e-3),
# and prints the test AUROC (mean-L1 score) after every epoch.
set -euo pipefail
data=$1 epochs=$2 batch=$3 per=$4 classes=$5 out=$6
bench=${FLAWSCOPE_BENCH:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/bench}
cache=${FLAWSCOPE_CACHE:-${TMPDIR:-/tmp}/flawscope-bench-cache}
case $data in
  mnist) name=mnist ;;
  fmnist) name=fashion-mnist ;;
  cifar10) name=cifar10 ;;
esac
# the reduced copy `flawscope reproduce` made of the shared data set (with its test split)
case $data in
  mnist) want=$(cd "$bench/../data/mnist" && pwd) ;;
  fmnist) want=/usr/share/datasets/fashion-mnist ;;
  cifar10) want=$cache/cifar10-jpg ;;
esac
src=$(grep -l "\"src\":\"$want\",\"perClass\":$per,\"seed\":0,\"withTest\":true" "$cache"/$name-$per-per-class-*/.flawscope-subsample.json | head -1 | xargs dirname)
root=$src
if [ "$data" != cifar10 ]; then
  # the reference reads gzipped IDX files by their standard names
  root="$cache/$name-$per-per-class-gz"
  mkdir -p "$root"
  for f in train-images-idx3-ubyte train-labels-idx1-ubyte; do [ -f "$root/$f.gz" ] || gzip -c "$src/$f" > "$root/$f.gz"; done
  for f in t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz; do ln -sf "$(readlink -f "$src/$f")" "$root/$f"; done
fi
: > "$out"
for k in $classes; do
  /usr/bin/python3 "$bench/torch_train_ref.py" --data "$data" --root "$root" --normal "$k" --epochs "$epochs" \
    --batch "$batch" --lr 1e-3 --per-anomaly $((per / 9)) --threads 2 --seed "${SEED:-0}" | tee -a "$out"
done
