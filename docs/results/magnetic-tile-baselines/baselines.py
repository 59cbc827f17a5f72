"""Hand-made, untrained defect scores on Magnetic tile, for scale next to the model's AUROC.

Patch level: the same 64 px / stride 32 grid as `flawscope reproduce --dataset magnetic-tile`,
a crop is a defect when over 2 % of it is masked, defect-photo crops without defect are left out
(all 1,344 photos; nothing is trained, so there is no split). Image level: each photo scored by
its most extreme 32 px crop (stride 16). Run: /usr/bin/python3 baselines.py DATA_DIR
(needs python3-numpy and python3-pil; DATA_DIR = the unpacked magnetic-tile.tar.gz).
"""
import glob
import sys

import numpy as np
from PIL import Image

TYPES = ['MT_Blowhole', 'MT_Break', 'MT_Crack', 'MT_Fray', 'MT_Uneven']


def auroc(scores, labels):
    """Exact AUROC (Mann-Whitney); ties are rare with these float features and ranked by order."""
    s, y = np.asarray(scores, dtype=np.float64), np.asarray(labels)
    r = np.empty(len(s))
    r[np.argsort(s, kind='mergesort')] = np.arange(1, len(s) + 1)
    n1 = y.sum()
    return (r[y == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * (len(y) - n1))


def per_type(v, kinds):
    normal = v[kinds == 'MT_Free']
    return {t: auroc(np.r_[normal, v[kinds == t]], np.r_[np.zeros(len(normal)), np.ones((kinds == t).sum())]) for t in TYPES}


def main(root):
    patch = {k: [] for k in ['patch std', 'patch std / photo std', 'largest abs(pixel - patch median)', 'same / photo std']}
    image = {k: [] for k in ['max crop std', 'max crop std / median crop std', 'largest abs(pixel - crop median)']}
    py, pk, iy, ik = [], [], [], []
    for kind in ['MT_Free'] + TYPES:
        for f in sorted(glob.glob(f'{root}/{kind}/Imgs/*.jpg')):
            im = np.asarray(Image.open(f).convert('L'), dtype=np.float32)
            h, w = im.shape
            istd = im.std()
            mask = np.asarray(Image.open(f[:-4] + '.png').convert('L')) > 127 if kind != 'MT_Free' else None
            for y in range(0, max(1, h - 63), 32):
                for x in range(0, max(1, w - 63), 32):
                    if mask is not None and mask[y:y + 64, x:x + 64].mean() <= 0.02:
                        continue
                    p = im[y:y + 64, x:x + 64]
                    dev = np.abs(p - np.median(p)).max()
                    for k, v in zip(patch, [p.std(), p.std() / istd, dev, dev / istd]):
                        patch[k].append(v)
                    py.append(0 if mask is None else 1)
                    pk.append(kind)
            stds, devs = [], []
            for y in range(0, max(1, h - 31), 16):
                for x in range(0, max(1, w - 31), 16):
                    p = im[y:y + 32, x:x + 32]
                    stds.append(p.std())
                    devs.append(np.abs(p - np.median(p)).max())
            stds = np.array(stds)
            for k, v in zip(image, [stds.max(), stds.max() / np.median(stds), max(devs)]):
                image[k].append(v)
            iy.append(0 if kind == 'MT_Free' else 1)
            ik.append(kind)
    for title, feats, y, kinds in [('patch', patch, py, pk), ('image', image, iy, ik)]:
        y, kinds = np.array(y), np.array(kinds)
        print(f'\n{title} level: {len(y)} ({(y == 0).sum()} normal, {y.sum()} defect)')
        print(f"| score | AUROC (%) | {' | '.join(t[3:] for t in TYPES)} |")
        print('|---|---:|' + '---:|' * len(TYPES))
        for k, v in feats.items():
            v = np.array(v)
            pt = per_type(v, kinds)
            print(f"| {k} | {100 * auroc(v, y):.1f} | {' | '.join(f'{100 * pt[t]:.1f}' for t in TYPES)} |")


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else '/tmp/flawscope-bench-cache/magnetic-tile')
