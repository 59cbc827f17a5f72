"""The PyTorch patch reference (shared/bench/torch_mt_patch_ref.py) on a GPU at a longer budget:
same model, losses, patch protocol and split by source image, plus a validation split of the
training photos (epoch chosen on it, never on test) and a whole-photo score (photo tiled at the
training scale, highest tile error), so the figures compare with flawscope's results."""
import argparse, glob, json, os, time, copy
import numpy as np, torch, torch.nn.functional as F
from PIL import Image
from torch_ref import G, D, patch_loss
from torch_train_ref import auroc

def main():
    a = argparse.ArgumentParser()
    a.add_argument('--root', required=True); a.add_argument('--normal', default='MT_Free'); a.add_argument('--patch', type=int, default=64)
    a.add_argument('--size', type=int, default=32); a.add_argument('--batch', type=int, default=64)
    a.add_argument('--lr', type=float, default=1e-3); a.add_argument('--seed', type=int, default=0); a.add_argument('--min-frac', type=float, default=0.02)
    a.add_argument('--per-image', type=int, default=8); a.add_argument('--seconds', type=float, default=300); a.add_argument('--eval-every', type=int, default=1)
    a.add_argument('--weights', default='rec=1.5,abc=0.5,adv=0.5,patch=1.5,lat=0.5,aadv=1.0'); a.add_argument('--name', required=True)
    a = a.parse_args(); torch.set_num_threads(2); torch.manual_seed(a.seed); rng = np.random.default_rng(a.seed); dev = os.environ.get('DEV', 'cuda')
    out = open(os.path.join(os.environ.get('OUT', '.'), a.name + '.jsonl'), 'w')
    def log(d): out.write(json.dumps(d) + '\n'); out.flush(); print(a.name, json.dumps(d), flush=True)
    log({'args': vars(a)})
    imgs = sorted(glob.glob(os.path.join(a.root, '*/Imgs/*.jpg'))); P = a.patch
    split = {}
    for f in imgs:
        r = rng.random(); split[f] = 'train' if r < 0.5 else ('val' if r < 0.6 else 'test')
    data = {s: ([], []) for s in ('train', 'val', 'test')}; photos = {'val': [], 'test': []}
    for f in imgs:
        im = np.asarray(Image.open(f).convert('L'), np.float32); mk = np.asarray(Image.open(f[:-4] + '.png').convert('L')) > 127
        H, W = im.shape
        if H < P or W < P: continue
        normal_img = f.split('/')[-3] == a.normal
        if split[f] != 'train': photos[split[f]].append((im, 0 if normal_img else 1, f.split('/')[-3]))
        ys, xs = np.nonzero(mk)
        for _ in range(a.per_image):
            if not normal_img and len(ys) and rng.random() < 0.75:
                k = rng.integers(len(ys)); y0 = int(np.clip(ys[k] - P // 2 + rng.integers(-P // 4, P // 4 + 1), 0, H - P)); x0 = int(np.clip(xs[k] - P // 2 + rng.integers(-P // 4, P // 4 + 1), 0, W - P))
            else:
                y0 = int(rng.integers(0, H - P + 1)); x0 = int(rng.integers(0, W - P + 1))
            frac = mk[y0:y0 + P, x0:x0 + P].mean()
            if normal_img: lab = 0
            elif frac >= a.min_frac: lab = 1
            else: continue
            p = Image.fromarray(im[y0:y0 + P, x0:x0 + P].astype(np.uint8)).resize((a.size, a.size), Image.BILINEAR)
            data[split[f]][0].append(np.asarray(p, np.float32)); data[split[f]][1].append(lab)
    X = {s: (torch.from_numpy(np.stack(d[0]))[:, None] / 127.5 - 1).to(dev) for s, d in data.items()}; L = {s: np.array(d[1]) for s, d in data.items()}
    xn, xa = X['train'][L['train'] == 0], X['train'][L['train'] == 1]
    # whole photos tiled at the training scale: P-px tiles, stride P/2, each resized to size
    def tiles(im):
        H, W = im.shape; ys = sorted(set(list(range(0, H - P + 1, P // 2)) + [H - P])); xs = sorted(set(list(range(0, W - P + 1, P // 2)) + [W - P]))
        t = [np.asarray(Image.fromarray(im[y:y + P, x:x + P].astype(np.uint8)).resize((a.size, a.size), Image.BILINEAR), np.float32) for y in ys for x in xs]
        return (torch.from_numpy(np.stack(t))[:, None] / 127.5 - 1).to(dev)
    T = {s: [tiles(im) for im, _, _ in photos[s]] for s in photos}
    g, dn, da = G(1).to(dev), D(1).to(dev), D(1).to(dev)
    og = torch.optim.Adam(g.parameters(), a.lr, betas=(0.5, 0.999)); od = torch.optim.Adam(list(dn.parameters()) + list(da.parameters()), a.lr, betas=(0.5, 0.999))
    w = {k: float(v) for k, v in (kv.split('=') for kv in a.weights.split(','))}; ps, st = max(4, a.size // 8), max(2, a.size // 16)
    log({'n_train': [int(len(xn)), int(len(xa))], 'n_val': [int((L['val'] == 0).sum()), int((L['val'] == 1).sum())], 'n_test': [int((L['test'] == 0).sum()), int((L['test'] == 1).sum())],
         'photos_test': [sum(1 for p in photos['test'] if p[1] == 0), sum(1 for p in photos['test'] if p[1] == 1)]})
    steps = max(1, (len(xn) + len(xa)) // a.batch)
    def score(x):
        with torch.no_grad(): return torch.cat([(x[i:i + 1024] - g(x[i:i + 1024])[0]).abs().flatten(1).mean(1) for i in range(0, len(x), 1024)]).cpu().numpy()
    def evaluate(s):
        g.eval(); r = {'patch': float(auroc(score(X[s]), L[s]))}
        ph = np.array([score(t).max() for t in T[s]]); lab = np.array([p[1] for p in photos[s]]); r['photo'] = float(auroc(ph, lab))
        if s == 'test':
            ty = np.array([p[2] for p in photos[s]])
            r['photo_by_type'] = {k: round(float(auroc(ph[(ty == k) | (lab == 0)], lab[(ty == k) | (lab == 0)])), 4) for k in sorted(set(ty)) if k != a.normal}
        g.train(); return r
    t_start = time.time(); best = (-1, None, 0); ep = 0; updates = 0
    while time.time() - t_start < a.seconds:
        ep += 1
        for _ in range(steps):
            normal = rng.random() < 0.5; src = xn if normal else xa; Dm = dn if normal else da
            x = src[torch.from_numpy(rng.integers(0, len(src), a.batch)).to(dev)]
            if rng.random() < 0.5: x = x.flip(3)
            x = torch.rot90(x, int(rng.integers(0, 4)), (2, 3))
            y, z = g(x)
            if normal:
                lg = w['rec'] * (x - y).abs().mean() + w['patch'] * patch_loss(x, y, ps, st, 3) + w['lat'] * (z - g.encode(y)[-1]).abs().mean() + w['adv'] * ((Dm(y) - 1) ** 2).mean()
            else:
                l1 = (x - y).abs().flatten(1).mean(1)
                lg = w['abc'] * (-torch.log(1 - torch.exp(-l1) + 1e-8)).mean() + w['aadv'] * (Dm(y) ** 2).mean()
            og.zero_grad(); lg.backward(); og.step(); updates += 1
            if w['adv'] > 0 or w['aadv'] > 0:
                ld = ((Dm(x) - 1) ** 2).mean() + (Dm(y.detach()) ** 2).mean(); od.zero_grad(); ld.backward(); od.step()
        if ep % a.eval_every == 0:
            v = evaluate('val'); rec = {'epoch': ep, 'updates': updates, 'secs': round(time.time() - t_start, 1), 'val_patch': round(v['patch'], 4), 'val_photo': round(v['photo'], 4)}
            if v['patch'] > best[0]: best = (v['patch'], copy.deepcopy(g.state_dict()), ep)
            log(rec)
    last = evaluate('test'); g.load_state_dict(best[1]); sel = evaluate('test')
    log({'final': True, 'epochs': ep, 'updates': updates, 'secs': round(time.time() - t_start, 1), 'best_val_epoch': best[2], 'best_val_patch': round(best[0], 4),
         'test_at_best_val': sel, 'test_at_last_epoch': last})

if __name__ == '__main__': main()
