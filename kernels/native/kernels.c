// Flawscope fast training kernels: 2-D convolution forward / backprop-input / backprop-filter
// in NHWC layout, WebAssembly SIMD (128-bit), shared memory, run by N threads at once.
//
// Build: node kernels/native/build.mjs   (clang-16 --target=wasm32 -msimd128 -matomics ...)
// Two variants from this one source: kernels.wasm (SIMD128: a multiply and an add per MADD) and
// kernels-relaxed.wasm (-mrelaxed-simd -DFLAWSCOPE_RELAXED: MADD is one relaxed multiply-add, an
// FMA on CPUs that have one — twice the multiply-add rate of the 128-bit mul + add pair).
//
// Every kernel is a "gather + GEMM": rows of a small gathered matrix (im2col rows for conv
// forward and backprop-filter; tap-gathered dy rows for backprop-input, split by stride phase
// so no multiply is ever wasted on a structural zero) are built chunk by chunk in a per-thread
// scratch buffer that stays in cache, then multiplied with register-tiled SIMD micro-kernels.
// Threads take chunks from a shared atomic counter (dynamic scheduling: robust when one core is
// busy with something else). Backprop-filter accumulates into one partial dW per fixed slot of
// chunks (not per thread, so results do not depend on scheduling); the caller reduces them.
//
// No libc, no shadow stack use (no address-taken locals), so several instances sharing one
// memory can run at once without per-thread stacks.
#include <stdint.h>
#include <wasm_simd128.h>

typedef float f32;
typedef int32_t i32;

// Task block layout (i32 words); mirrored in trainer/kernels/wasm.ts (TASK_*).
enum {
  T_OP = 0, T_NEXT, T_NCHUNKS,
  T_N, T_H, T_W, T_CI, T_OH, T_OW, T_CO, T_KH, T_KW, T_SH, T_SW, T_PT, T_PL,
  T_X, T_WP, T_BIAS, T_Y, T_SCRATCH, T_SCRATCH_FLOATS, T_ACT, T_ALPHA, T_MC,
  T_PARTIAL, T_NTHREADS, T_DY,
  // element-wise tasks (OP_EW) reuse: T_N = element count, T_CO = period of b (tail broadcast),
  // T_ACT = kind, T_X = a, T_DY = b, T_Y = out, T_ALPHA = alpha (f32), T_MC = chunk length,
  // T_ALPHA64 (2 words) = alpha as a double.
  T_ALPHA64 = 28,
  T_WORDS = 32
};

enum { OP_CONV = 1, OP_BP_INPUT = 2, OP_BP_FILTER = 3, OP_EW = 4, OP_REDUCE = 5, OP_COPY_ROWS = 6 };
enum {
  EW_LEAKY = 1, EW_LEAKY_GRAD = 2, EW_RELU_GRAD = 3, EW_ABS_GRAD = 4, EW_RELU = 5, EW_ADD = 6, EW_ADD_TAIL = 7, EW_MUL = 8,
  EW_SUB = 9, EW_DIV_S = 10, EW_MUL_S = 11, EW_NEG = 12, EW_ABS = 13, EW_SQUARE = 14, EW_SQRT = 15, EW_TANH = 16,
  EW_TANH_GRAD = 17
};
enum { ACT_LINEAR = 0, ACT_RELU = 1, ACT_LEAKY = 2, ACT_RELU6 = 3 };

#ifdef FLAWSCOPE_RELAXED
// acc + a*b as one relaxed multiply-add (an FMA where the CPU has one).
#define MADD(acc, a, b) ((v128_t)__builtin_wasm_relaxed_madd_f32x4((__f32x4)(a), (__f32x4)(b), (__f32x4)(acc)))
#else
#define MADD(acc, a, b) wasm_f32x4_add((acc), wasm_f32x4_mul((a), (b)))
#endif
#define F(p) ((f32 *)(uintptr_t)(p))
// Per-thread scratch: MAX_MC row pointers, a 32-float tile, then the gathered rows (MC x K floats).
#define MAX_MC 512
#define SCRATCH_HDR (MAX_MC + 32)

static inline i32 imin(i32 a, i32 b) { return a < b ? a : b; }
static inline i32 imax(i32 a, i32 b) { return a > b ? a : b; }

// ---------------------------------------------------------------------------------------------
// Weight packing. B is [K x N] row-major (N = output columns). Packed into column panels of
// width 8 (last panel width 4 when N % 8 is in 1..4), each panel K rows x width contiguous,
// zero padded.
__attribute__((export_name("pack_b")))
void pack_b(const f32 *B, i32 K, i32 N, f32 *out) {
  for (i32 n0 = 0; n0 < N; n0 += 8) {
    i32 w = N - n0 >= 8 ? 8 : (N - n0 <= 4 ? 4 : 8);
    i32 valid = imin(w, N - n0);
    for (i32 k = 0; k < K; k++) {
      const f32 *src = B + (intptr_t)k * N + n0;
      i32 j = 0;
      for (; j < valid; j++) out[j] = src[j];
      for (; j < w; j++) out[j] = 0.f;
      out += w;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// GEMM micro-kernels: C rows (up to 4) = A rows (K long) x packed panel.
static void mk4x8(i32 K, const f32 *a0, const f32 *a1, const f32 *a2, const f32 *a3,
                  const f32 *b, f32 *c0, f32 *c1, f32 *c2, f32 *c3) {
  v128_t z = wasm_f32x4_splat(0.f);
  v128_t s00 = z, s01 = z, s10 = z, s11 = z, s20 = z, s21 = z, s30 = z, s31 = z;
  for (i32 k = 0; k < K; k++) {
    v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4);
    b += 8;
    v128_t x0 = wasm_v128_load32_splat(a0 + k);
    v128_t x1 = wasm_v128_load32_splat(a1 + k);
    s00 = MADD(s00, x0, b0);
    s01 = MADD(s01, x0, b1);
    v128_t x2 = wasm_v128_load32_splat(a2 + k);
    s10 = MADD(s10, x1, b0);
    s11 = MADD(s11, x1, b1);
    v128_t x3 = wasm_v128_load32_splat(a3 + k);
    s20 = MADD(s20, x2, b0);
    s21 = MADD(s21, x2, b1);
    s30 = MADD(s30, x3, b0);
    s31 = MADD(s31, x3, b1);
  }
  wasm_v128_store(c0, s00); wasm_v128_store(c0 + 4, s01);
  wasm_v128_store(c1, s10); wasm_v128_store(c1 + 4, s11);
  wasm_v128_store(c2, s20); wasm_v128_store(c2 + 4, s21);
  wasm_v128_store(c3, s30); wasm_v128_store(c3 + 4, s31);
}

static void mk4x4(i32 K, const f32 *a0, const f32 *a1, const f32 *a2, const f32 *a3,
                  const f32 *b, f32 *c0, f32 *c1, f32 *c2, f32 *c3) {
  v128_t z = wasm_f32x4_splat(0.f);
  v128_t s0 = z, s1 = z, s2 = z, s3 = z;
  for (i32 k = 0; k < K; k++) {
    v128_t b0 = wasm_v128_load(b);
    b += 4;
    s0 = MADD(s0, wasm_v128_load32_splat(a0 + k), b0);
    s1 = MADD(s1, wasm_v128_load32_splat(a1 + k), b0);
    s2 = MADD(s2, wasm_v128_load32_splat(a2 + k), b0);
    s3 = MADD(s3, wasm_v128_load32_splat(a3 + k), b0);
  }
  wasm_v128_store(c0, s0); wasm_v128_store(c1, s1);
  wasm_v128_store(c2, s2); wasm_v128_store(c3, s3);
}

// C[r, :] (row pointer crow[r]) = A[r, 0:K] * Bpacked for r < M (A row stride lda).
// tile: 32 floats of per-thread scratch for partial row/column blocks.
static void gemm_rows(i32 M, i32 N, i32 K, const f32 *A, i32 lda, const f32 *Bp, f32 *const *crow, f32 *tile) {
  const f32 *panel = Bp;
  for (i32 n0 = 0; n0 < N; n0 += 8) {
    i32 w = N - n0 >= 8 ? 8 : (N - n0 <= 4 ? 4 : 8);
    i32 cols = imin(8, N - n0);
    for (i32 m = 0; m < M; m += 4) {
      i32 rows = imin(4, M - m);
      const f32 *a0 = A + (intptr_t)m * lda;
      const f32 *a1 = rows > 1 ? a0 + lda : a0;
      const f32 *a2 = rows > 2 ? a0 + 2 * lda : a0;
      const f32 *a3 = rows > 3 ? a0 + 3 * lda : a0;
      if (cols == w && rows == 4) {
        if (w == 8) mk4x8(K, a0, a1, a2, a3, panel, crow[m] + n0, crow[m + 1] + n0, crow[m + 2] + n0, crow[m + 3] + n0);
        else mk4x4(K, a0, a1, a2, a3, panel, crow[m] + n0, crow[m + 1] + n0, crow[m + 2] + n0, crow[m + 3] + n0);
      } else {
        if (w == 8) mk4x8(K, a0, a1, a2, a3, panel, tile, tile + 8, tile + 16, tile + 24);
        else mk4x4(K, a0, a1, a2, a3, panel, tile, tile + 8, tile + 16, tile + 24);
        for (i32 r = 0; r < rows; r++)
          for (i32 c = 0; c < cols; c++) crow[m + r][n0 + c] = tile[r * 8 + c];
      }
    }
    panel += (intptr_t)K * w;
  }
}

// Small-N GEMM (N <= 4 output columns, e.g. 3 colour channels): C[r, 0:N] = A[r, 0:K] . Bt[0:N, 0:K]
// with Bt the transposed weights (N rows of K). Vectorised along K, 2 rows at a time, lanes summed
// at the end with a 4x4 transpose-add; no work is wasted on padding columns.
static inline v128_t hsum4(v128_t s0, v128_t s1, v128_t s2, v128_t s3) {
  v128_t a = wasm_f32x4_add(wasm_i32x4_shuffle(s0, s1, 0, 4, 1, 5), wasm_i32x4_shuffle(s0, s1, 2, 6, 3, 7));
  v128_t b = wasm_f32x4_add(wasm_i32x4_shuffle(s2, s3, 0, 4, 1, 5), wasm_i32x4_shuffle(s2, s3, 2, 6, 3, 7));
  return wasm_f32x4_add(wasm_i32x4_shuffle(a, b, 0, 1, 4, 5), wasm_i32x4_shuffle(a, b, 2, 3, 6, 7));
}

static inline void store_n(f32 *c, v128_t v, i32 n) {
  // Constant lanes, one branch per count: a lane picked by a loop index would make clang spill
  // the vector to the shadow stack, which the threads share.
  const f32 v0 = wasm_f32x4_extract_lane(v, 0), v1 = wasm_f32x4_extract_lane(v, 1);
  const f32 v2 = wasm_f32x4_extract_lane(v, 2), v3 = wasm_f32x4_extract_lane(v, 3);
  switch (n) {
    case 1: c[0] = v0; break;
    case 2: c[0] = v0; c[1] = v1; break;
    case 3: c[0] = v0; c[1] = v1; c[2] = v2; break;
    default: c[0] = v0; c[1] = v1; c[2] = v2; c[3] = v3; break;
  }
}

// Row r's K = nt * CO inputs are nt segments of CO floats found through the pointer list P[r * nt + t] (dy pixels, or a zero segment for taps outside dy): no gathered
// copy is made. Used by backprop-input with <= 4 output channels, where gathering cost more than
// the arithmetic.
static void gemm_dot_ptrs(i32 M, i32 N, i32 nt, i32 CO, const f32 *const *P, const f32 *Bt, f32 *const *crow) {
  const i32 K = nt * CO, C4 = CO & ~3;
  const f32 *b0 = Bt, *b1 = N > 1 ? Bt + K : Bt, *b2 = N > 2 ? Bt + 2 * K : Bt, *b3 = N > 3 ? Bt + 3 * K : Bt;
  v128_t z = wasm_f32x4_splat(0.f);
  for (i32 m = 0; m < M; m += 2) {
    i32 rows = imin(2, M - m);
    const f32 *const *p0 = P + (intptr_t)m * nt;
    const f32 *const *p1 = rows > 1 ? p0 + nt : p0;
    v128_t s00 = z, s01 = z, s02 = z, s03 = z, s10 = z, s11 = z, s12 = z, s13 = z;
    f32 t0 = 0, t1 = 0, t2 = 0, t3 = 0, u0 = 0, u1 = 0, u2 = 0, u3 = 0;
    for (i32 t = 0; t < nt; t++) {
      const f32 *a0 = p0[t], *a1 = p1[t];
      const i32 o = t * CO;
      for (i32 k = 0; k < C4; k += 4) {
        v128_t x0 = wasm_v128_load(a0 + k), x1 = wasm_v128_load(a1 + k);
        v128_t w0 = wasm_v128_load(b0 + o + k), w1 = wasm_v128_load(b1 + o + k);
        v128_t w2 = wasm_v128_load(b2 + o + k), w3 = wasm_v128_load(b3 + o + k);
        s00 = MADD(s00, x0, w0);
        s01 = MADD(s01, x0, w1);
        s02 = MADD(s02, x0, w2);
        s03 = MADD(s03, x0, w3);
        s10 = MADD(s10, x1, w0);
        s11 = MADD(s11, x1, w1);
        s12 = MADD(s12, x1, w2);
        s13 = MADD(s13, x1, w3);
      }
      for (i32 k = C4; k < CO; k++) {
        f32 x0 = a0[k], x1 = a1[k];
        t0 += x0 * b0[o + k]; t1 += x0 * b1[o + k]; t2 += x0 * b2[o + k]; t3 += x0 * b3[o + k];
        u0 += x1 * b0[o + k]; u1 += x1 * b1[o + k]; u2 += x1 * b2[o + k]; u3 += x1 * b3[o + k];
      }
    }
    v128_t r0 = wasm_f32x4_add(hsum4(s00, s01, s02, s03), wasm_f32x4_make(t0, t1, t2, t3));
    v128_t r1 = wasm_f32x4_add(hsum4(s10, s11, s12, s13), wasm_f32x4_make(u0, u1, u2, u3));
    store_n(crow[m], r0, N);
    if (rows > 1) store_n(crow[m + 1], r1, N);
  }
}

// One output column (N = 1: a defect map's probability, a grey image): C[r, 0] = A[r, :] . b,
// four rows at a time sharing each weight load. gemm_dot_ptrs would compute the one column four
// times over (its w1..w3 alias w0).
static void gemm_dot1_ptrs(i32 M, i32 nt, i32 CO, const f32 *const *P, const f32 *b, f32 *const *crow) {
  const i32 C4 = CO & ~3;
  v128_t z = wasm_f32x4_splat(0.f);
  for (i32 m = 0; m < M; m += 4) {
    i32 rows = imin(4, M - m);
    const f32 *const *p0 = P + (intptr_t)m * nt;
    const f32 *const *p1 = rows > 1 ? p0 + nt : p0;
    const f32 *const *p2 = rows > 2 ? p0 + 2 * nt : p0;
    const f32 *const *p3 = rows > 3 ? p0 + 3 * nt : p0;
    v128_t s0 = z, s1 = z, s2 = z, s3 = z;
    f32 t0 = 0, t1 = 0, t2 = 0, t3 = 0;
    for (i32 t = 0; t < nt; t++) {
      const f32 *a0 = p0[t], *a1 = p1[t], *a2 = p2[t], *a3 = p3[t];
      const f32 *w = b + t * CO;
      for (i32 k = 0; k < C4; k += 4) {
        v128_t wv = wasm_v128_load(w + k);
        s0 = MADD(s0, wasm_v128_load(a0 + k), wv);
        s1 = MADD(s1, wasm_v128_load(a1 + k), wv);
        s2 = MADD(s2, wasm_v128_load(a2 + k), wv);
        s3 = MADD(s3, wasm_v128_load(a3 + k), wv);
      }
      for (i32 k = C4; k < CO; k++) {
        const f32 wk = w[k];
        t0 += a0[k] * wk; t1 += a1[k] * wk; t2 += a2[k] * wk; t3 += a3[k] * wk;
      }
    }
    v128_t r = wasm_f32x4_add(hsum4(s0, s1, s2, s3), wasm_f32x4_make(t0, t1, t2, t3));
    crow[m][0] = wasm_f32x4_extract_lane(r, 0);
    if (rows > 1) crow[m + 1][0] = wasm_f32x4_extract_lane(r, 1);
    if (rows > 2) crow[m + 2][0] = wasm_f32x4_extract_lane(r, 2);
    if (rows > 3) crow[m + 3][0] = wasm_f32x4_extract_lane(r, 3);
  }
}

// ---------------------------------------------------------------------------------------------
// Copy helpers (explicit loops: memory.copy is a runtime call in V8, slow for tiny sizes).
static inline void copy_f(f32 *d, const f32 *s, i32 n) {
  i32 i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(d + i, wasm_v128_load(s + i));
  for (; i < n; i++) d[i] = s[i];
}
static inline void zero_f(f32 *d, i32 n) {
  i32 i = 0;
  v128_t z = wasm_f32x4_splat(0.f);
  for (; i + 4 <= n; i += 4) wasm_v128_store(d + i, z);
  for (; i < n; i++) d[i] = 0.f;
}

// im2col row for output pixel (n, oh, ow): K = KH*KW*CI floats, order (kh, kw, ci).
static inline void im2col_row(const i32 *t, const f32 *x, i32 n, i32 oh, i32 ow, f32 *row) {
  const i32 H = t[T_H], W = t[T_W], CI = t[T_CI], KH = t[T_KH], KW = t[T_KW];
  const i32 ih0 = oh * t[T_SH] - t[T_PT], iw0 = ow * t[T_SW] - t[T_PL];
  const i32 KWCI = KW * CI;
  for (i32 kh = 0; kh < KH; kh++) {
    i32 ih = ih0 + kh;
    f32 *r = row + kh * KWCI;
    if (ih < 0 || ih >= H) { zero_f(r, KWCI); continue; }
    const f32 *xr = x + ((intptr_t)(n * H + ih) * W) * CI;
    i32 kwlo = imax(0, -iw0), kwhi = imin(KW, W - iw0);
    if (kwhi <= kwlo) { zero_f(r, KWCI); continue; }
    if (kwlo > 0) zero_f(r, kwlo * CI);
    copy_f(r + kwlo * CI, xr + (intptr_t)(iw0 + kwlo) * CI, (kwhi - kwlo) * CI);
    if (kwhi < KW) zero_f(r + kwhi * CI, (KW - kwhi) * CI);
  }
}

static inline i32 next_chunk(i32 *t) { return __atomic_fetch_add(&t[T_NEXT], 1, __ATOMIC_SEQ_CST); }

// ---------------------------------------------------------------------------------------------
// Conv forward: y[m, :] = act(im2col(x)[m, :] . Wp + bias), m over N*OH*OW output pixels.
static void epilogue(const i32 *t, f32 *y, i32 rows, i32 CO) {
  const f32 *bias = t[T_BIAS] ? F(t[T_BIAS]) : 0;
  const i32 act = t[T_ACT];
  const f32 alpha = *(const f32 *)&t[T_ALPHA];
  if (!bias && act == ACT_LINEAR) return;
  v128_t va = wasm_f32x4_splat(alpha), z = wasm_f32x4_splat(0.f), six = wasm_f32x4_splat(6.f);
  for (i32 r = 0; r < rows; r++) {
    f32 *yr = y + (intptr_t)r * CO;
    i32 c = 0;
    for (; c + 4 <= CO; c += 4) {
      v128_t v = wasm_v128_load(yr + c);
      if (bias) v = wasm_f32x4_add(v, wasm_v128_load(bias + c));
      if (act == ACT_RELU) v = wasm_f32x4_max(v, z);
      else if (act == ACT_LEAKY) v = wasm_v128_bitselect(v, wasm_f32x4_mul(v, va), wasm_f32x4_gt(v, z));
      else if (act == ACT_RELU6) v = wasm_f32x4_min(wasm_f32x4_max(v, z), six);
      wasm_v128_store(yr + c, v);
    }
    for (; c < CO; c++) {
      f32 v = yr[c];
      if (bias) v += bias[c];
      if (act == ACT_RELU) v = v > 0.f ? v : 0.f;
      else if (act == ACT_LEAKY) v = v > 0.f ? v : v * alpha;
      else if (act == ACT_RELU6) v = v > 0.f ? (v < 6.f ? v : 6.f) : 0.f;
      yr[c] = v;
    }
  }
}

static void conv_fwd(i32 *t, i32 tid) {
  const i32 OH = t[T_OH], OW = t[T_OW], CO = t[T_CO];
  const i32 K = t[T_KH] * t[T_KW] * t[T_CI];
  const i32 M = t[T_N] * OH * OW, MC = t[T_MC];
  const f32 *x = F(t[T_X]), *Wp = F(t[T_WP]);
  f32 *y = F(t[T_Y]);
  f32 *col = F(t[T_SCRATCH]) + (intptr_t)tid * t[T_SCRATCH_FLOATS] + SCRATCH_HDR;
  f32 **crow = (f32 **)(F(t[T_SCRATCH]) + (intptr_t)tid * t[T_SCRATCH_FLOATS]);
  for (;;) {
    i32 ch = next_chunk(t);
    if (ch >= t[T_NCHUNKS]) break;
    i32 m0 = ch * MC, rows = imin(MC, M - m0);
    i32 n = m0 / (OH * OW), p = m0 - n * OH * OW, oh = p / OW, ow = p - oh * OW;
    if (CO <= 4) {
      // Few output channels (a 1x1 input standardisation, a probability map): pointer lists to
      // the input pixels instead of gathered rows, and dot products along CI (gemm_dot_ptrs);
      // the packed GEMM would spend most of its work on padding columns. T_WP holds the
      // transposed weights [CO x K], T_DY CI zeros for taps outside the input.
      const f32 *zero = F(t[T_DY]);
      const f32 **P = (const f32 **)col;
      const i32 H = t[T_H], W = t[T_W], CI = t[T_CI], KH = t[T_KH], KW = t[T_KW], nt = KH * KW;
      for (i32 r = 0; r < rows; r++) {
        const i32 ih0 = oh * t[T_SH] - t[T_PT], iw0 = ow * t[T_SW] - t[T_PL];
        const f32 **pr = P + (intptr_t)r * nt;
        for (i32 kh = 0; kh < KH; kh++) {
          const i32 ih = ih0 + kh;
          const int okh = ih >= 0 && ih < H;
          for (i32 kw = 0; kw < KW; kw++) {
            const i32 iw = iw0 + kw;
            pr[kh * KW + kw] = (okh && iw >= 0 && iw < W) ? x + ((intptr_t)(n * H + ih) * W + iw) * CI : zero;
          }
        }
        crow[r] = y + (intptr_t)(m0 + r) * CO;
        if (++ow == OW) { ow = 0; if (++oh == OH) { oh = 0; n++; } }
      }
      if (CO == 1) gemm_dot1_ptrs(rows, nt, CI, (const f32 *const *)P, Wp, crow);
      else gemm_dot_ptrs(rows, CO, nt, CI, (const f32 *const *)P, Wp, crow);
      epilogue(t, y + (intptr_t)m0 * CO, rows, CO);
      continue;
    }
    for (i32 r = 0; r < rows; r++) {
      im2col_row(t, x, n, oh, ow, col + (intptr_t)r * K);
      crow[r] = y + (intptr_t)(m0 + r) * CO;
      if (++ow == OW) { ow = 0; if (++oh == OH) { oh = 0; n++; } }
    }
    gemm_rows(rows, CO, K, col, K, Wp, crow, (f32 *)(crow + MAX_MC));
    epilogue(t, y + (intptr_t)m0 * CO, rows, CO);
  }
}

// ---------------------------------------------------------------------------------------------
// Backprop input (also conv2dTranspose forward): dx[n, ih, iw, :] = sum over taps (kh, kw) with
// ih + pt - kh = oh * sh, iw + pl - kw = ow * sw: dy[n, oh, ow, :] . W[kh, kw, :, :]^T.
// Pixels are grouped by phase (ph, pw) = ((ih + pt) mod sh, (iw + pl) mod sw); in a phase the
// taps are kh = ph, ph + sh, ... and kw = pw, pw + sw, ...; each phase has its own packed weight
// matrix [ntaps*CO x CI] (built by the caller, offsets in the phase table at T_WP).
// Phase table (i32): per phase p: [wp_offset, nkh, nkw, count_h, count_w, ih_first, iw_first, chunk_base]
#define PH_WORDS 8

static void bp_input(i32 *t, i32 tid) {
  const i32 N = t[T_N], H = t[T_H], W = t[T_W], CI = t[T_CI], OH = t[T_OH], OW = t[T_OW], CO = t[T_CO];
  const i32 SH = t[T_SH], SW = t[T_SW], PT = t[T_PT], PL = t[T_PL], MC = t[T_MC];
  const i32 nph = SH * SW;
  const i32 *ph = (const i32 *)F(t[T_WP]);
  const f32 *dy = F(t[T_DY]);
  f32 *dx = F(t[T_Y]);
  f32 *g = F(t[T_SCRATCH]) + (intptr_t)tid * t[T_SCRATCH_FLOATS] + SCRATCH_HDR;
  f32 **crow = (f32 **)(F(t[T_SCRATCH]) + (intptr_t)tid * t[T_SCRATCH_FLOATS]);
  for (;;) {
    i32 ch = next_chunk(t);
    if (ch >= t[T_NCHUNKS]) break;
    i32 p = 0;
    while (p + 1 < nph && ph[(p + 1) * PH_WORDS + 7] <= ch) p++;
    const i32 *e = ph + p * PH_WORDS;
    const f32 *Wp = F(e[0]);
    const i32 nkh = e[1], nkw = e[2], cw = e[4], ihf = e[5], iwf = e[6];
    const i32 per_img = e[3] * cw, total = N * per_img;
    const i32 Ks = nkh * nkw * CO;
    const i32 khf = (ihf + PT) % SH, kwf = (iwf + PL) % SW;
    // ih + PT - kh = (ihf + PT - khf) + (a - i) * SH exactly, so oh = oh0 + a - i (no division).
    const i32 oh0 = (ihf + PT - khf) / SH, ow0 = (iwf + PL - kwf) / SW, chh = e[3];
    i32 q0 = (ch - e[7]) * MC, rows = imin(MC, total - q0);
    i32 n = q0 / per_img, rem = q0 - n * per_img, a = rem / cw, b = rem - a * cw;
    if (CI <= 4) {
      // Pointer lists instead of gathered rows (see gemm_dot_ptrs); T_BIAS holds CO zeros.
      const f32 *zero = F(t[T_BIAS]);
      const f32 **P = (const f32 **)g;
      const i32 nt = nkh * nkw;
      for (i32 r = 0; r < rows; r++) {
        const i32 ih = ihf + a * SH, iw = iwf + b * SW;
        const f32 *dyn = dy + (intptr_t)n * OH * OW * CO;
        const f32 **pr = P + (intptr_t)r * nt;
        for (i32 i = 0; i < nkh; i++) {
          const i32 oh = oh0 + a - i;
          const int okh = oh >= 0 && oh < OH;
          const f32 *dyr = dyn + (intptr_t)oh * OW * CO;
          for (i32 j = 0; j < nkw; j++) {
            const i32 ow = ow0 + b - j;
            pr[i * nkw + j] = (okh && ow >= 0 && ow < OW) ? dyr + (intptr_t)ow * CO : zero;
          }
        }
        crow[r] = dx + ((intptr_t)(n * H + ih) * W + iw) * CI;
        if (++b == cw) { b = 0; if (++a == chh) { a = 0; n++; } }
      }
      // Wp: transposed [CI x Ks]
      if (CI == 1) gemm_dot1_ptrs(rows, nt, CO, (const f32 *const *)P, Wp, crow);
      else gemm_dot_ptrs(rows, CI, nt, CO, (const f32 *const *)P, Wp, crow);
      continue;
    }
    for (i32 r = 0; r < rows; r++) {
      const i32 ih = ihf + a * SH, iw = iwf + b * SW;
      const f32 *dyn = dy + (intptr_t)n * OH * OW * CO;
      f32 *row = g + (intptr_t)r * Ks;
      for (i32 i = 0; i < nkh; i++) {
        const i32 oh = oh0 + a - i;
        f32 *rr = row + i * nkw * CO;
        if (oh < 0 || oh >= OH) { zero_f(rr, nkw * CO); continue; }
        const f32 *dyr = dyn + (intptr_t)oh * OW * CO;
        for (i32 j = 0; j < nkw; j++) {
          const i32 ow = ow0 + b - j;
          if (ow < 0 || ow >= OW) zero_f(rr + j * CO, CO);
          else copy_f(rr + j * CO, dyr + (intptr_t)ow * CO, CO);
        }
      }
      crow[r] = dx + ((intptr_t)(n * H + ih) * W + iw) * CI;
      if (++b == cw) { b = 0; if (++a == chh) { a = 0; n++; } }
    }
    gemm_rows(rows, CI, Ks, g, Ks, Wp, crow, (f32 *)(crow + MAX_MC));
  }
}

// ---------------------------------------------------------------------------------------------
// Backprop filter: dW[k, co] = sum_m im2col(x)[m, k] * dy[m, co]. Per-slot partial dW at
// T_PARTIAL + slot * K * CO (zeroed here first), reduced by reduce_parts.
static void bpf_block(i32 rows, i32 K, i32 CO, const f32 *col, const f32 *dy, f32 *dw) {
  i32 k0 = 0;
  for (; k0 + 4 <= K; k0 += 4) {
    i32 c0 = 0;
    for (; c0 + 8 <= CO; c0 += 8) {
      f32 *d0 = dw + (intptr_t)k0 * CO + c0;
      v128_t s00 = wasm_v128_load(d0), s01 = wasm_v128_load(d0 + 4);
      v128_t s10 = wasm_v128_load(d0 + CO), s11 = wasm_v128_load(d0 + CO + 4);
      v128_t s20 = wasm_v128_load(d0 + 2 * CO), s21 = wasm_v128_load(d0 + 2 * CO + 4);
      v128_t s30 = wasm_v128_load(d0 + 3 * CO), s31 = wasm_v128_load(d0 + 3 * CO + 4);
      const f32 *a = col + k0, *b = dy + c0;
      for (i32 m = 0; m < rows; m++) {
        v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4);
        v128_t x0 = wasm_v128_load32_splat(a), x1 = wasm_v128_load32_splat(a + 1);
        s00 = MADD(s00, x0, b0);
        s01 = MADD(s01, x0, b1);
        v128_t x2 = wasm_v128_load32_splat(a + 2);
        s10 = MADD(s10, x1, b0);
        s11 = MADD(s11, x1, b1);
        v128_t x3 = wasm_v128_load32_splat(a + 3);
        s20 = MADD(s20, x2, b0);
        s21 = MADD(s21, x2, b1);
        s30 = MADD(s30, x3, b0);
        s31 = MADD(s31, x3, b1);
        a += K; b += CO;
      }
      wasm_v128_store(d0, s00); wasm_v128_store(d0 + 4, s01);
      wasm_v128_store(d0 + CO, s10); wasm_v128_store(d0 + CO + 4, s11);
      wasm_v128_store(d0 + 2 * CO, s20); wasm_v128_store(d0 + 2 * CO + 4, s21);
      wasm_v128_store(d0 + 3 * CO, s30); wasm_v128_store(d0 + 3 * CO + 4, s31);
    }
    for (; c0 + 4 <= CO; c0 += 4) {
      f32 *d0 = dw + (intptr_t)k0 * CO + c0;
      v128_t s0 = wasm_v128_load(d0), s1 = wasm_v128_load(d0 + CO);
      v128_t s2 = wasm_v128_load(d0 + 2 * CO), s3 = wasm_v128_load(d0 + 3 * CO);
      const f32 *a = col + k0, *b = dy + c0;
      for (i32 m = 0; m < rows; m++) {
        v128_t b0 = wasm_v128_load(b);
        s0 = MADD(s0, wasm_v128_load32_splat(a), b0);
        s1 = MADD(s1, wasm_v128_load32_splat(a + 1), b0);
        s2 = MADD(s2, wasm_v128_load32_splat(a + 2), b0);
        s3 = MADD(s3, wasm_v128_load32_splat(a + 3), b0);
        a += K; b += CO;
      }
      wasm_v128_store(d0, s0); wasm_v128_store(d0 + CO, s1);
      wasm_v128_store(d0 + 2 * CO, s2); wasm_v128_store(d0 + 3 * CO, s3);
    }
    for (; c0 < CO; c0++) {
      f32 s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      const f32 *a = col + k0, *b = dy + c0;
      for (i32 m = 0; m < rows; m++) {
        f32 bv = *b;
        s0 += a[0] * bv; s1 += a[1] * bv; s2 += a[2] * bv; s3 += a[3] * bv;
        a += K; b += CO;
      }
      f32 *d0 = dw + (intptr_t)k0 * CO + c0;
      d0[0] += s0; d0[CO] += s1; d0[2 * CO] += s2; d0[3 * CO] += s3;
    }
  }
  for (; k0 < K; k0++) {
    for (i32 c0 = 0; c0 < CO; c0++) {
      f32 s = 0;
      const f32 *a = col + k0, *b = dy + c0;
      for (i32 m = 0; m < rows; m++) { s += *a * *b; a += K; b += CO; }
      dw[(intptr_t)k0 * CO + c0] += s;
    }
  }
}

// Deterministic at any thread count: the rows are split into T_NCHUNKS fixed "slots" (contiguous
// row ranges), each with its own partial dW; threads take whole slots from the atomic counter,
// and the caller sums the slots in slot order. Which thread ran a slot cannot change a bit of dW.
static void bp_filter(i32 *t, i32 tid) {
  const i32 OH = t[T_OH], OW = t[T_OW], CO = t[T_CO];
  const i32 K = t[T_KH] * t[T_KW] * t[T_CI];
  const i32 M = t[T_N] * OH * OW, MC = t[T_MC];
  const i32 slots = t[T_NCHUNKS];
  const f32 *x = F(t[T_X]), *dy = F(t[T_DY]);
  f32 *col = F(t[T_SCRATCH]) + (intptr_t)tid * t[T_SCRATCH_FLOATS] + SCRATCH_HDR;
  for (;;) {
    i32 s = next_chunk(t);
    if (s >= slots) break;
    f32 *dw = F(t[T_PARTIAL]) + (intptr_t)s * K * CO;
    zero_f(dw, K * CO);
    // Slots are row ranges (not chunk ranges), so dW does not depend on MC or the thread count.
    const i32 end = (i32)(((int64_t)(s + 1) * M) / slots);
    for (i32 m0 = (i32)(((int64_t)s * M) / slots); m0 < end; m0 += MC) {
      i32 rows = imin(MC, end - m0);
      i32 n = m0 / (OH * OW), p = m0 - n * OH * OW, oh = p / OW, ow = p - oh * OW;
      for (i32 r = 0; r < rows; r++) {
        im2col_row(t, x, n, oh, ow, col + (intptr_t)r * K);
        if (++ow == OW) { ow = 0; if (++oh == OH) { oh = 0; n++; } }
      }
      bpf_block(rows, K, CO, col, dy + (intptr_t)m0 * CO, dw);
    }
  }
}

// out[i] = sum over t < nparts of parts[t * len + i]
__attribute__((export_name("reduce_parts")))
void reduce_parts(const f32 *parts, i32 nparts, i32 len, f32 *out) {
  i32 i = 0;
  for (; i + 4 <= len; i += 4) {
    v128_t s = wasm_v128_load(parts + i);
    for (i32 p = 1; p < nparts; p++) s = wasm_f32x4_add(s, wasm_v128_load(parts + (intptr_t)p * len + i));
    wasm_v128_store(out + i, s);
  }
  for (; i < len; i++) {
    f32 s = parts[i];
    for (i32 p = 1; p < nparts; p++) s += parts[(intptr_t)p * len + i];
    out[i] = s;
  }
}

// tanh(x) for two doubles: clamp to ±9, odd rational p(x)/q(x) (13/6), |x| < 4e-4 -> x, NaN stays
// NaN; the same operations in the same order as TANH_BLOCK in elementwise.ts (bit-identical).
static inline v128_t tanh2(v128_t x) {
  const v128_t nine = wasm_f64x2_splat(9.0), mnine = wasm_f64x2_splat(-9.0);
  v128_t c = wasm_v128_bitselect(nine, x, wasm_f64x2_gt(x, nine));
  c = wasm_v128_bitselect(mnine, c, wasm_f64x2_lt(x, mnine));
  const v128_t x2 = wasm_f64x2_mul(c, c);
#define PSTEP(p, k) p = wasm_f64x2_add(wasm_f64x2_mul(p, x2), wasm_f64x2_splat(k))
  v128_t p = wasm_f64x2_splat(-2.76076847742355e-16);
  PSTEP(p, 2.00018790482477e-13); PSTEP(p, -8.60467152213735e-11); PSTEP(p, 5.12229709037114e-8);
  PSTEP(p, 1.48572235717979e-5); PSTEP(p, 6.37261928875436e-4); PSTEP(p, 4.89352455891786e-3);
  p = wasm_f64x2_mul(p, c);
  v128_t q = wasm_f64x2_splat(1.19825839466702e-6);
  PSTEP(q, 1.18534705686654e-4); PSTEP(q, 2.26843463243900e-3); PSTEP(q, 4.89352518554385e-3);
#undef PSTEP
  v128_t r = wasm_f64x2_div(p, q);
  r = wasm_f64x2_max(wasm_f64x2_splat(-1.0), wasm_f64x2_min(wasm_f64x2_splat(1.0), r));  // NaN-propagating, like Math.min/max
  return wasm_v128_bitselect(c, r, wasm_f64x2_lt(wasm_f64x2_abs(c), wasm_f64x2_splat(4e-4)));
}

// ---------------------------------------------------------------------------------------------
// Element-wise ops on big tensors, split in chunks over the threads. Same float32 results as the
// stock JS kernels: f32 +, *, compare are correctly rounded like JS's double op + fround; the
// LeakyRelu forward multiplies by the attribute alpha in double, as JS does.
static void ew_range(const i32 *t, i32 i0, i32 i1) {
  const f32 *a = F(t[T_X]), *b = F(t[T_DY]);
  f32 *o = F(t[T_Y]);
  const f32 alpha = *(const f32 *)&t[T_ALPHA];
  const v128_t va = wasm_f32x4_splat(alpha), z = wasm_f32x4_splat(0.f), one = wasm_f32x4_splat(1.f);
  const v128_t nan = wasm_f32x4_splat(__builtin_nanf("")), mone = wasm_f32x4_splat(-1.f);
  i32 i = i0;
  switch (t[T_ACT]) {
    case EW_LEAKY: {
      const double al = *(const double *)(uintptr_t)&t[T_ALPHA64];  // 8-byte aligned (task block is 64-aligned)
      for (; i < i1; i++) { f32 x = a[i]; o[i] = x < 0 ? (f32)(al * (double)x) : x; }
      break;
    }
    case EW_LEAKY_GRAD:  // o = x > 0 ? dy : dy * alpha; a = dy, b = x
      for (; i + 4 <= i1; i += 4) {
        v128_t d = wasm_v128_load(a + i), x = wasm_v128_load(b + i);
        wasm_v128_store(o + i, wasm_v128_bitselect(d, wasm_f32x4_mul(d, va), wasm_f32x4_gt(x, z)));
      }
      for (; i < i1; i++) o[i] = b[i] > 0 ? a[i] : a[i] * alpha;
      break;
    case EW_RELU_GRAD:   // o = dy * (x != x ? NaN : x > 0 ? 1 : 0)
    case EW_ABS_GRAD: {  // o = dy * (x != x ? NaN : x > 0 ? 1 : -1)
      const v128_t neg = t[T_ACT] == EW_RELU_GRAD ? z : mone;
      const f32 negs = t[T_ACT] == EW_RELU_GRAD ? 0.f : -1.f;
      for (; i + 4 <= i1; i += 4) {
        v128_t d = wasm_v128_load(a + i), x = wasm_v128_load(b + i);
        v128_t st = wasm_v128_bitselect(one, neg, wasm_f32x4_gt(x, z));
        st = wasm_v128_bitselect(st, nan, wasm_f32x4_eq(x, x));
        wasm_v128_store(o + i, wasm_f32x4_mul(d, st));
      }
      for (; i < i1; i++) { f32 x = b[i]; o[i] = a[i] * (x != x ? __builtin_nanf("") : x > 0 ? 1.f : negs); }
      break;
    }
    case EW_RELU:        // Math.max(0, x): NaN stays NaN, -0 becomes +0
      for (; i + 4 <= i1; i += 4) {
        v128_t x = wasm_v128_load(a + i);
        v128_t r = wasm_v128_bitselect(x, z, wasm_f32x4_gt(x, z));
        wasm_v128_store(o + i, wasm_v128_bitselect(r, x, wasm_f32x4_eq(x, x)));
      }
      for (; i < i1; i++) { f32 x = a[i]; o[i] = x > 0 ? x : (x != x ? x : 0.f); }
      break;
    case EW_ADD:
      for (; i + 4 <= i1; i += 4) wasm_v128_store(o + i, wasm_f32x4_add(wasm_v128_load(a + i), wasm_v128_load(b + i)));
      for (; i < i1; i++) o[i] = a[i] + b[i];
      break;
    case EW_MUL:
      for (; i + 4 <= i1; i += 4) wasm_v128_store(o + i, wasm_f32x4_mul(wasm_v128_load(a + i), wasm_v128_load(b + i)));
      for (; i < i1; i++) o[i] = a[i] * b[i];
      break;
    case EW_SUB:
      for (; i + 4 <= i1; i += 4) wasm_v128_store(o + i, wasm_f32x4_sub(wasm_v128_load(a + i), wasm_v128_load(b + i)));
      for (; i < i1; i++) o[i] = a[i] - b[i];
      break;
    case EW_DIV_S:       // o = a / alpha (a scalar tensor)
      for (; i + 4 <= i1; i += 4) wasm_v128_store(o + i, wasm_f32x4_div(wasm_v128_load(a + i), va));
      for (; i < i1; i++) o[i] = a[i] / alpha;
      break;
    case EW_MUL_S:
      for (; i + 4 <= i1; i += 4) wasm_v128_store(o + i, wasm_f32x4_mul(wasm_v128_load(a + i), va));
      for (; i < i1; i++) o[i] = a[i] * alpha;
      break;
    case EW_NEG:
      for (; i + 4 <= i1; i += 4) wasm_v128_store(o + i, wasm_f32x4_neg(wasm_v128_load(a + i)));
      for (; i < i1; i++) o[i] = -a[i];
      break;
    case EW_ABS:
      for (; i + 4 <= i1; i += 4) wasm_v128_store(o + i, wasm_f32x4_abs(wasm_v128_load(a + i)));
      for (; i < i1; i++) o[i] = __builtin_fabsf(a[i]);
      break;
    case EW_SQUARE:
      for (; i + 4 <= i1; i += 4) { v128_t x = wasm_v128_load(a + i); wasm_v128_store(o + i, wasm_f32x4_mul(x, x)); }
      for (; i < i1; i++) o[i] = a[i] * a[i];
      break;
    case EW_SQRT:
      for (; i + 4 <= i1; i += 4) wasm_v128_store(o + i, wasm_f32x4_sqrt(wasm_v128_load(a + i)));
      for (; i < i1; i++) o[i] = __builtin_sqrtf(a[i]);
      break;
    case EW_TANH:        // the TANH_BLOCK rational of elementwise.ts, in double like the JS version
      for (; i + 2 <= i1; i += 2) {
        v128_t x = wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(a + i));
        wasm_v128_store64_lane(o + i, wasm_f32x4_demote_f64x2_zero(tanh2(x)), 0);
      }
      for (; i < i1; i++) {
        v128_t x = wasm_f64x2_splat((double)a[i]);
        o[i] = (f32)wasm_f64x2_extract_lane(tanh2(x), 0);
      }
      break;
    case EW_TANH_GRAD: { // o = (1 - y*y) * dy in float32 steps; a = dy, b = y
      for (; i + 4 <= i1; i += 4) {
        v128_t y = wasm_v128_load(b + i);
        wasm_v128_store(o + i, wasm_f32x4_mul(wasm_f32x4_sub(one, wasm_f32x4_mul(y, y)), wasm_v128_load(a + i)));
      }
      for (; i < i1; i++) { f32 y = b[i], yy = y * y; o[i] = (1.f - yy) * a[i]; }
      break;
    }
    case EW_ADD_TAIL: {  // o[i] = a[i] + b[i % m]; chunks start at multiples of m
      const i32 m = t[T_CO];
      for (; i < i1; i += m) {
        i32 j = 0;
        for (; j + 4 <= m; j += 4) wasm_v128_store(o + i + j, wasm_f32x4_add(wasm_v128_load(a + i + j), wasm_v128_load(b + j)));
        for (; j < m; j++) o[i + j] = a[i + j] + b[j];
      }
      break;
    }
    default: break;
  }
}

static void ew(i32 *t) {
  const i32 n = t[T_N], len = t[T_MC];
  for (;;) {
    i32 ch = next_chunk(t);
    if (ch >= t[T_NCHUNKS]) break;
    i32 i0 = ch * len;
    ew_range(t, i0, imin(n, i0 + len));
  }
}

// Sum (or mean) over the middle axis of x [outer, red, inner] -> out [outer, inner], each
// element divided by T_ALPHA64 first (1 for sums, as the JS kernel does), accumulated in double.
// inner > 1: chunk = (outer index, block of T_MC columns), each column summed in row order like
// the stock kernel; T_SCRATCH = outer * inner doubles.
// inner == 1, T_PARTIAL == 0: chunk = T_MC consecutive rows, each summed in order (as stock).
// inner == 1, T_PARTIAL != 0 (few long rows): chunk = (row, slot of T_MC elements); each slot's
// double sum goes to T_SCRATCH[row * T_PARTIAL + slot], added up in slot order by the caller.
static void reduce(i32 *t) {
  const f32 *x = F(t[T_X]);
  f32 *out = F(t[T_Y]);
  double *acc = (double *)(uintptr_t)t[T_SCRATCH];
  const i32 outer = t[T_H], red = t[T_N], inner = t[T_CO], cb = t[T_MC], slots = t[T_PARTIAL];
  const double scale = *(const double *)(uintptr_t)&t[T_ALPHA64];
  const i32 nblocks = inner == 1 ? 1 : (inner + cb - 1) / cb;
  for (;;) {
    i32 ch = next_chunk(t);
    if (ch >= t[T_NCHUNKS]) break;
    if (inner == 1 && slots) {
      const i32 o = ch / slots, sl = ch % slots, r0 = sl * cb, r1 = imin(red, r0 + cb);
      const f32 *xo = x + (intptr_t)o * red;
      double s = 0;
      if (scale == 1.0) for (i32 r = r0; r < r1; r++) s += xo[r];
      else for (i32 r = r0; r < r1; r++) s += xo[r] / scale;
      acc[(intptr_t)o * slots + sl] = s;
      continue;
    }
    if (inner == 1) {
      const i32 o1 = imin(outer, (ch + 1) * cb);
      for (i32 o = ch * cb; o < o1; o++) {
        const f32 *xo = x + (intptr_t)o * red;
        double s = 0;
        if (scale == 1.0) for (i32 r = 0; r < red; r++) s += xo[r];
        else for (i32 r = 0; r < red; r++) s += xo[r] / scale;
        out[o] = (f32)s;
      }
      continue;
    }
    const i32 o = ch / nblocks, c0 = (ch % nblocks) * cb, c1 = imin(inner, c0 + cb);
    const f32 *xo = x + (intptr_t)o * red * inner;
    if (c1 - c0 == 8 && scale == 1.0) {
      // Eight columns in registers: four independent add chains, one row per step.
      v128_t s0 = wasm_f64x2_splat(0), s1 = s0, s2 = s0, s3 = s0;
      const f32 *row = xo + c0;
      for (i32 r = 0; r < red; r++, row += inner) {
        const v128_t lo = wasm_v128_load(row), hi = wasm_v128_load(row + 4);
        s0 = wasm_f64x2_add(s0, wasm_f64x2_promote_low_f32x4(lo));
        s1 = wasm_f64x2_add(s1, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(lo, lo, 2, 3, 0, 1)));
        s2 = wasm_f64x2_add(s2, wasm_f64x2_promote_low_f32x4(hi));
        s3 = wasm_f64x2_add(s3, wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(hi, hi, 2, 3, 0, 1)));
      }
      f32 *d = out + (intptr_t)o * inner + c0;
      wasm_v128_store64_lane(d, wasm_f32x4_demote_f64x2_zero(s0), 0);
      wasm_v128_store64_lane(d + 2, wasm_f32x4_demote_f64x2_zero(s1), 0);
      wasm_v128_store64_lane(d + 4, wasm_f32x4_demote_f64x2_zero(s2), 0);
      wasm_v128_store64_lane(d + 6, wasm_f32x4_demote_f64x2_zero(s3), 0);
      continue;
    }
    double *a = acc + (intptr_t)o * inner;
    for (i32 j = c0; j < c1; j++) a[j] = 0;
    const v128_t vs = wasm_f64x2_splat(scale);
    for (i32 r = 0; r < red; r++) {
      const f32 *row = xo + (intptr_t)r * inner;
      i32 j = c0;
      if (scale == 1.0) {
        for (; j + 2 <= c1; j += 2)
          wasm_v128_store(a + j, wasm_f64x2_add(wasm_v128_load(a + j), wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(row + j))));
        for (; j < c1; j++) a[j] += row[j];
      } else {
        for (; j + 2 <= c1; j += 2)
          wasm_v128_store(a + j, wasm_f64x2_add(wasm_v128_load(a + j), wasm_f64x2_div(wasm_f64x2_promote_low_f32x4(wasm_v128_load64_zero(row + j)), vs)));
        for (; j < c1; j++) a[j] += row[j] / scale;
      }
    }
    for (i32 j = c0; j < c1; j++) out[(intptr_t)o * inner + j] = (f32)a[j];
  }
}

// Strided row copy (concat / split): dst[r * T_H + j] = src[r * T_W + j], r < T_N rows, j < T_CO;
// T_X = src, T_Y = dst (byte addresses of row 0), chunk = T_MC rows.
static void copy_rows(i32 *t) {
  const f32 *src = F(t[T_X]);
  f32 *dst = F(t[T_Y]);
  const i32 rows = t[T_N], len = t[T_CO], ds = t[T_H], ss = t[T_W], rc = t[T_MC];
  for (;;) {
    i32 ch = next_chunk(t);
    if (ch >= t[T_NCHUNKS]) break;
    const i32 r1 = imin(rows, (ch + 1) * rc);
    for (i32 r = ch * rc; r < r1; r++) {
      const f32 *s = src + (intptr_t)r * ss;
      f32 *d = dst + (intptr_t)r * ds;
      i32 j = 0;
      for (; j + 4 <= len; j += 4) wasm_v128_store(d + j, wasm_v128_load(s + j));
      for (; j < len; j++) d[j] = s[j];
    }
  }
}

// Entry point for every thread (tid 0 = the calling JS thread).
__attribute__((export_name("run_task")))
void run_task(i32 *t, i32 tid) {
  switch (t[T_OP]) {
    case OP_CONV: conv_fwd(t, tid); break;
    case OP_BP_INPUT: bp_input(t, tid); break;
    case OP_BP_FILTER: bp_filter(t, tid); break;
    case OP_EW: ew(t); break;
    case OP_REDUCE: reduce(t); break;
    case OP_COPY_ROWS: copy_rows(t); break;
    default: break;
  }
}
