// Softmax over the last axis and batch normalisation with given statistics (TF.js FusedBatchNorm).
#include <cmath>
#include "common.h"

namespace ob {
namespace {

// softmax(x, y, rows, cols)
Napi::Value Softmax(const Napi::CallbackInfo &info) {
  const float *x = F32(info[0], "logits");
  float *y = F32(info[1], "y");
  const int64_t rows = Int(info[2]), cols = Int(info[3]);
  Require(cols >= 1 && Len(info[0]) == rows * cols && Len(info[1]) == rows * cols, info.Env(),
          "softmax: array sizes do not match the dimensions");
#pragma omp parallel for if (rows * cols > kParallelMin)
  for (int64_t r = 0; r < rows; r++) {
    const float *p = x + r * cols;
    float *q = y + r * cols;
    float m = p[0];
    for (int64_t j = 0; j < cols; j++) m = (std::isnan(p[j]) || p[j] > m) ? p[j] : m;
    double s = 0;
    for (int64_t j = 0; j < cols; j++) {
      // The JavaScript kernel rounds x - max and its exponential to float32 before summing.
      const float e = static_cast<float>(std::exp(static_cast<double>(p[j] - m)));
      q[j] = e;
      s += e;
    }
    const float sf = static_cast<float>(s);
    for (int64_t j = 0; j < cols; j++) q[j] = q[j] / sf;
  }
  return info.Env().Undefined();
}

// batchNorm(x, mean, variance, offset | null, scale | null, y, epsilon). Each parameter array repeats
// along x (index i % length), as in the JavaScript kernel: length C for NHWC channels.
Napi::Value BatchNorm(const Napi::CallbackInfo &info) {
  const float *x = F32(info[0], "x");
  const float *mean = F32(info[1], "mean");
  const float *var = F32(info[2], "variance");
  const bool has_off = !info[3].IsNull() && !info[3].IsUndefined();
  const bool has_scale = !info[4].IsNull() && !info[4].IsUndefined();
  const float one = 1.f, zero = 0.f;
  const float *off = has_off ? F32(info[3], "offset") : &zero;
  const float *scale = has_scale ? F32(info[4], "scale") : &one;
  float *y = F32(info[5], "y");
  const double eps = Dbl(info[6]);
  const int64_t n = Len(info[0]), lm = Len(info[1]), lv = Len(info[2]);
  const int64_t lo = has_off ? Len(info[3]) : 1, ls = has_scale ? Len(info[4]) : 1;
  Require(Len(info[5]) == n && lm >= 1 && lv >= 1 && lo >= 1 && ls >= 1, info.Env(),
          "batchNorm: array sizes do not match");
#pragma omp parallel for if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    const double v = static_cast<double>(off[i % lo]) +
                     (static_cast<double>(x[i]) - mean[i % lm]) * scale[i % ls] / std::sqrt(var[i % lv] + eps);
    y[i] = static_cast<float>(v);
  }
  return info.Env().Undefined();
}

}  // namespace

void InitNorm(Napi::Env env, Napi::Object exports) {
  exports.Set("softmax", Napi::Function::New(env, Softmax));
  exports.Set("batchNorm", Napi::Function::New(env, BatchNorm));
}

}  // namespace ob
