// Max pooling in NHWC and its gradient. Channels are innermost, so each window step is a contiguous,
// vectorisable pass over C values. Ties go to the first maximum in row-major window order, as in
// TF.js's JavaScript kernels, so that gradients agree where ReLU leaves runs of equal zeros.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>
#include "common.h"

namespace ob {
namespace {

struct PoolGeom {
  int64_t n, h, w, c, oh, ow, kh, kw, sh, sw, pt, pl;
};

PoolGeom ReadPool(const Napi::Value &v) {
  auto g = Ints(v);
  Require(g.size() == 12, v.Env(), "pool geometry must have 12 numbers");
  return PoolGeom{g[0], g[1], g[2], g[3], g[4], g[5], g[6], g[7], g[8], g[9], g[10], g[11]};
}

// maxPool(x, y, geom)
Napi::Value MaxPool(const Napi::CallbackInfo &info) {
  const float *x = F32(info[0], "x");
  float *y = F32(info[1], "y");
  const PoolGeom g = ReadPool(info[2]);
  Require(Len(info[0]) == g.n * g.h * g.w * g.c && Len(info[1]) == g.n * g.oh * g.ow * g.c, info.Env(),
          "maxPool: array sizes do not match the geometry");
  const float ninf = -std::numeric_limits<float>::infinity();
#pragma omp parallel for if (g.n * g.oh * g.ow * g.c > kParallelMin)
  for (int64_t row = 0; row < g.n * g.oh; row++) {
    const int64_t b = row / g.oh, yr = row % g.oh;
    const int64_t r0 = yr * g.sh - g.pt;
    const int64_t rmin = r0 < 0 ? 0 : r0, rmax = std::min(g.h, r0 + g.kh);
    for (int64_t yc = 0; yc < g.ow; yc++) {
      const int64_t c0 = yc * g.sw - g.pl;
      const int64_t cmin = c0 < 0 ? 0 : c0, cmax = std::min(g.w, c0 + g.kw);
      float *out = y + ((b * g.oh + yr) * g.ow + yc) * g.c;
      for (int64_t ch = 0; ch < g.c; ch++) out[ch] = ninf;
      for (int64_t r = rmin; r < rmax; r++)
        for (int64_t cc = cmin; cc < cmax; cc++) {
          const float *px = x + ((b * g.h + r) * g.w + cc) * g.c;
          for (int64_t ch = 0; ch < g.c; ch++) out[ch] = px[ch] > out[ch] ? px[ch] : out[ch];
        }
    }
  }
  return info.Env().Undefined();
}

// maxPoolGrad(dy, x, dx, geom): dx's contents on entry do not matter.
Napi::Value MaxPoolGrad(const Napi::CallbackInfo &info) {
  const float *dy = F32(info[0], "dy");
  const float *x = F32(info[1], "x");
  float *dx = F32(info[2], "dx");
  const PoolGeom g = ReadPool(info[3]);
  Require(Len(info[1]) == g.n * g.h * g.w * g.c && Len(info[2]) == Len(info[1]) &&
              Len(info[0]) == g.n * g.oh * g.ow * g.c,
          info.Env(), "maxPoolGrad: array sizes do not match the geometry");
  const float ninf = -std::numeric_limits<float>::infinity();
  // Overlapping windows send several gradients to one input; they are summed in double and rounded
  // once, as the JavaScript kernel does, so that the result does not depend on the summation order.
  const bool overlap = g.kh > g.sh || g.kw > g.sw;
  const int64_t image = g.h * g.w * g.c;
  const int64_t taps = g.kh * g.kw;
  // Parallel over images: windows of different images never write the same dx element.
#pragma omp parallel if (g.n * g.oh * g.ow * g.c > kParallelMin)
  {
    // Per channel: the largest value so far and its tap (index within the window), -1 for none.
    std::vector<float> best(g.c);
    std::vector<int32_t> tap(g.c);
    std::vector<int64_t> offsets(taps);
    std::vector<double> acc(overlap ? image : 0);
#pragma omp for
    for (int64_t b = 0; b < g.n; b++) {
      const float *xb = x + b * image;
      float *dxb = dx + b * image;
      // Zeroed image by image, while it is in cache for the scatter that follows.
      if (overlap) std::fill(acc.begin(), acc.end(), 0.0);
      else std::fill(dxb, dxb + image, 0.f);
      for (int64_t yr = 0; yr < g.oh; yr++) {
        const int64_t r0 = yr * g.sh - g.pt;
        for (int64_t yc = 0; yc < g.ow; yc++) {
          const int64_t c0 = yc * g.sw - g.pl;
          float *bp = best.data();
          int32_t *tp = tap.data();
          for (int64_t ch = 0; ch < g.c; ch++) {
            bp[ch] = ninf;
            tp[ch] = -1;
          }
          // Taps in row-major window order; a strict > keeps the first of equal maxima.
          int32_t k = 0;
          for (int64_t r = r0; r < r0 + g.kh; r++)
            for (int64_t cc = c0; cc < c0 + g.kw; cc++, k++) {
              const bool inside = r >= 0 && r < g.h && cc >= 0 && cc < g.w;
              offsets[k] = inside ? (r * g.w + cc) * g.c : -1;
              if (!inside) continue;
              const float *px = xb + offsets[k];
#pragma omp simd
              for (int64_t ch = 0; ch < g.c; ch++) {
                const bool gt = px[ch] > bp[ch];
                bp[ch] = gt ? px[ch] : bp[ch];
                tp[ch] = gt ? k : tp[ch];
              }
            }
          const float *d = dy + ((b * g.oh + yr) * g.ow + yc) * g.c;
          for (int32_t kk = 0; kk < taps; kk++) {
            if (offsets[kk] < 0) continue;
            if (overlap) {
              double *a = acc.data() + offsets[kk];
              for (int64_t ch = 0; ch < g.c; ch++)
                if (tp[ch] == kk) a[ch] += d[ch];
            } else {
              float *o = dxb + offsets[kk];
#pragma omp simd
              for (int64_t ch = 0; ch < g.c; ch++) o[ch] = tp[ch] == kk ? d[ch] : o[ch];
            }
          }
        }
      }
      if (overlap)
        for (int64_t i = 0; i < image; i++) dxb[i] = static_cast<float>(acc[i]);
    }
  }
  return info.Env().Undefined();
}

}  // namespace

void InitPool(Napi::Env env, Napi::Object exports) {
  exports.Set("maxPool", Napi::Function::New(env, MaxPool));
  exports.Set("maxPoolGrad", Napi::Function::New(env, MaxPoolGrad));
}

}  // namespace ob
