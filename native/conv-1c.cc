// The input gradient of a convolution whose input has one channel (see SingleChannelBackpropInput in
// conv.h): dx[n, y, x] = sum over taps (ky, kx) landing on an output position (oy, ox) and over output
// channels o of dy[n, oy, ox, o] * w[ky, kx, 0, o].
#include "conv.h"

namespace ob {

namespace {

constexpr int kLanes = 8;

// Dot product over n floats in kLanes independent partial sums (each lane's order fixed, so the compiler
// may vectorise it without reassociating), then the lanes summed in order: the same result on every run
// and thread count.
inline void DotInto(const float *a, const float *b, int64_t n, float acc[kLanes]) {
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
#pragma omp simd
    for (int l = 0; l < kLanes; l++) acc[l] += a[i + l] * b[i + l];
  for (int l = 0; i < n; i++, l++) acc[l] += a[i] * b[i];
}

}  // namespace

void SingleChannelBackpropInput(const Geom &g, const float *dy, const float *w, float *dx) {
  const int64_t rows = g.n * g.h;
#pragma omp parallel for schedule(static) if (rows * g.w * g.kh * g.kw * g.oc > kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const int64_t n = r / g.h, y = r % g.h;
    for (int64_t x = 0; x < g.w; x++) {
      float acc[kLanes] = {0, 0, 0, 0, 0, 0, 0, 0};
      for (int64_t ky = 0; ky < g.kh; ky++) {
        const int64_t ty = y + g.pt - ky * g.dh;  // = oy * sh when the tap lands on an output row
        if (ty < 0 || ty % g.sh != 0 || ty / g.sh >= g.oh) continue;
        const int64_t oy = ty / g.sh;
        for (int64_t kx = 0; kx < g.kw; kx++) {
          const int64_t tx = x + g.pl - kx * g.dw;
          if (tx < 0 || tx % g.sw != 0 || tx / g.sw >= g.ow) continue;
          const int64_t ox = tx / g.sw;
          DotInto(dy + ((n * g.oh + oy) * g.ow + ox) * g.oc, w + (ky * g.kw + kx) * g.oc, g.oc, acc);
        }
      }
      float s = 0;
      for (int l = 0; l < kLanes; l++) s += acc[l];
      dx[(n * g.h + y) * g.w + x] = s;
    }
  }
}

}  // namespace ob
