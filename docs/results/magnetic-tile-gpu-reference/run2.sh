#!/bin/bash
# Ran on the lent GPU machine (one H200) from a folder holding this script, mt_gpu.py, shared/bench/torch_ref.py,
# shared/bench/torch_train_ref.py and shared/data/magnetic-tile/magnetic-tile.tar.gz copied as mt.tar.gz;
# $OUT receives one <name>.jsonl per run. Each run trains for $S seconds of wall time.
cd "$(dirname "$0")"
[ -d /tmp/mt/MT_Free ] || { mkdir -p /tmp/mt && tar -xzf mt.tar.gz -C /tmp/mt; }
S=${S:-250}; RA="--weights rec=1.5,abc=0.5,adv=0,patch=0,lat=0,aadv=0"
python3 mt_gpu.py --root /tmp/mt --name r2-b64-recon-abc-4xdata $RA --per-image 32 --seconds $S --eval-every 2 > /dev/null 2>&1 &
python3 mt_gpu.py --root /tmp/mt --name r2-b64-recon-abc-4xdata-seed1 $RA --seed 1 --per-image 32 --seconds $S --eval-every 2 > /dev/null 2>&1 &
python3 mt_gpu.py --root /tmp/mt --name r2-b64-six-4xdata-seed1 --seed 1 --per-image 32 --seconds $S --eval-every 2 > /dev/null 2>&1 &
python3 mt_gpu.py --root /tmp/mt --name r2-b64-recon-abc-8xdata $RA --per-image 64 --seconds $S --eval-every 1 > /dev/null 2>&1 &
python3 mt_gpu.py --root /tmp/mt --name r2-b64-recon-abc-seed1 $RA --seed 1 --seconds $S --eval-every 5 > /dev/null 2>&1 &
python3 mt_gpu.py --root /tmp/mt --name r2-b64-recon-abc-native32 $RA --patch 32 --seconds $S --eval-every 5 > /dev/null 2>&1 &
wait
for f in $OUT/*.jsonl; do echo "== $f"; grep final $f; done
