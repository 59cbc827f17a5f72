#!/bin/bash
# Ran on the lent GPU machine (one H200) from a folder holding this script, mt_gpu.py, shared/bench/torch_ref.py,
# shared/bench/torch_train_ref.py and shared/data/magnetic-tile/magnetic-tile.tar.gz copied as mt.tar.gz;
# $OUT receives one <name>.jsonl per run. Each run trains for $S seconds of wall time.
cd "$(dirname "$0")"
mkdir -p /tmp/mt && tar -xzf mt.tar.gz -C /tmp/mt
nvidia-smi -L; nproc; python3 -c "import torch; print(torch.__version__, torch.cuda.is_available())"
S=${S:-380}
python3 mt_gpu.py --root /tmp/mt --name b64-six --seconds $S --eval-every 5 > $OUT/b64-six.log 2>&1 &
python3 mt_gpu.py --root /tmp/mt --name b64-recon-abc --weights rec=1.5,abc=0.5,adv=0,patch=0,lat=0,aadv=0 --seconds $S --eval-every 5 > $OUT/b64-recon-abc.log 2>&1 &
python3 mt_gpu.py --root /tmp/mt --name b8-six --batch 8 --lr 2e-4 --seconds $S > /dev/null 2>&1 &
python3 mt_gpu.py --root /tmp/mt --name b1-six-paper --batch 1 --lr 1e-4 --seconds $S > /dev/null 2>&1 &
python3 mt_gpu.py --root /tmp/mt --name b64-six-4xdata --per-image 32 --seconds $S --eval-every 2 > /dev/null 2>&1 &
python3 mt_gpu.py --root /tmp/mt --name b64-six-native32 --patch 32 --seconds $S --eval-every 5 > /dev/null 2>&1 &
wait
for f in $OUT/*.jsonl; do echo "== $f"; grep -v '"epoch"' $f | tail -2; done
