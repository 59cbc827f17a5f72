/**
 * The distributions behind the threshold's tolerance bound (trainer/threshold.ts): Φ⁻¹, the
 * binomial tail, and the exact one-sided normal tolerance factor K(n, 1−R, γ) = t'_γ(n−1, z_{1−R}·√n)/√n,
 * a quantile of the noncentral t distribution (Owen 1963), found by numerical integration and
 * bisection. Pure numbers, no dependencies; accurate to about 1e-6 in K, far below what the few
 * validation normals it is used with can resolve.
 */

/** Φ⁻¹(p): Acklam's rational approximation (relative error below 1.2e-9), p in (0, 1). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`normalQuantile(${p}): p must be in (0, 1)`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) => (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5, r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** Φ(x), from erfc (W. J. Cody's rational approximations are overkill here: Numerical Recipes' erfcc, |relative error| < 1.2e-7). */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2, t = 1 / (1 + 0.5 * z);
  const erfc = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/** log Γ(x), Lanczos (g = 7, 9 terms), x > 0. */
function logGamma(x: number): number {
  const g = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = g[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += g[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** P(T ≤ t) for T noncentral t with ν degrees of freedom and noncentrality δ: E over V ~ χ²_ν of Φ(t·√(V/ν) − δ), by Simpson's rule. */
export function noncentralTCdf(t: number, nu: number, delta: number): number {
  const logNorm = -(nu / 2) * Math.log(2) - logGamma(nu / 2);
  const pdf = (v: number) => (v <= 0 ? (nu === 2 ? 0.5 : 0) : Math.exp(logNorm + (nu / 2 - 1) * Math.log(v) - v / 2));
  const hi = nu + 40 * Math.sqrt(2 * nu) + 40, steps = 4000, h = hi / steps;
  let sum = 0;
  for (let i = 0; i <= steps; i++) {
    const v = i * h, w = i === 0 || i === steps ? 1 : i % 2 ? 4 : 2;
    sum += w * pdf(v) * normalCdf(t * Math.sqrt(v / nu) - delta);
  }
  return (sum * h) / 3;
}

/** One-sided normal tolerance factor K: mean + K·sd exceeds at least 1−rate of the population with probability `confidence`. null when n < 3. */
export function toleranceFactor(n: number, rate: number, confidence: number): number | null {
  if (n < 3) return null;
  const nu = n - 1, delta = normalQuantile(1 - rate) * Math.sqrt(n);
  let lo = delta, hi = delta + 1;
  while (noncentralTCdf(hi, nu, delta) < confidence) hi *= 2;
  for (let i = 0; i < 60 && hi - lo > 1e-7; i++) {
    const mid = (lo + hi) / 2;
    if (noncentralTCdf(mid, nu, delta) < confidence) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2 / Math.sqrt(n);
}

/** P(Binomial(n, p) ≥ j), summed in log space so that n in the tens of thousands stays exact enough. */
export function binomialTail(n: number, p: number, j: number): number {
  if (j <= 0) return 1;
  if (j > n) return 0;
  let logC = 0; // log C(n, 0)
  let below = 0;
  for (let i = 0; i < j; i++) {
    below += Math.exp(logC + i * Math.log(p) + (n - i) * Math.log1p(-p));
    logC += Math.log(n - i) - Math.log(i + 1);
  }
  return Math.max(0, 1 - below);
}
