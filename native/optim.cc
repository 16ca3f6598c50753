// Fused optimizer updates: one pass over a variable instead of ~10 element-wise kernels, each of which
// reads and writes the whole parameter vector. The arithmetic is the composed ops' own, in float32 and
// in the same order (the addon is built with -ffp-contract=off), so results are bit-identical to them.
#include <cmath>
#include "common.h"

namespace ob {
namespace {

// The Adamax loop, free of branches so that it vectorises (a runtime `torch` flag or a NaN test written as
// control flow kept it scalar: 24 instructions per parameter). Same float32 operations in the same order.
template <bool Torch>
void AdamaxLoop(const float *g, const float *theta, const float *m, const float *u, float *theta_out, float *m_out,
                float *u_out, int64_t n, float b1, float c1, float b2, float eps, float step) {
  const float nan = std::nanf("");
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    const float gi = g[i];
    const float mi = b1 * m[i] + c1 * gi;
    const float decayed = b2 * u[i];
    const float ag = std::fabs(gi);
    const float cand = Torch ? ag + eps : ag;
    // Maximum as the JavaScript kernel computes it: NaN if either side is NaN.
    const float larger = decayed > cand ? decayed : cand;
    const float ui = std::isunordered(decayed, cand) ? nan : larger;
    const float denom = Torch ? ui : ui + eps;
    theta_out[i] = theta[i] - (step * mi) / denom;
    m_out[i] = mi;
    u_out[i] = ui;
  }
}

// adamax(g, theta, m, u, thetaOut, mOut, uOut, beta1, oneMinusBeta1, beta2, eps, step, torch)
//   m' = beta1 m + (1 - beta1) g
//   u' = max(beta2 u, |g|)            (tf.keras)   or   max(beta2 u, |g| + eps)   (torch)
//   theta' = theta - step m' / (u' + eps)           or   theta - step m' / u'
Napi::Value Adamax(const Napi::CallbackInfo &info) {
  const float *g = F32(info[0], "g");
  const float *theta = F32(info[1], "theta");
  const float *m = F32(info[2], "m");
  const float *u = F32(info[3], "u");
  float *theta_out = F32(info[4], "thetaOut");
  float *m_out = F32(info[5], "mOut");
  float *u_out = F32(info[6], "uOut");
  const int64_t n = Len(info[0]);
  for (int k = 1; k <= 6; k++) Require(Len(info[k]) == n, info.Env(), "adamax: arrays differ in size");
  const float b1 = static_cast<float>(Dbl(info[7])), c1 = static_cast<float>(Dbl(info[8]));
  const float b2 = static_cast<float>(Dbl(info[9])), eps = static_cast<float>(Dbl(info[10]));
  const float step = static_cast<float>(Dbl(info[11]));
  const bool torch = info[12].ToBoolean().Value();
  if (torch) AdamaxLoop<true>(g, theta, m, u, theta_out, m_out, u_out, n, b1, c1, b2, eps, step);
  else AdamaxLoop<false>(g, theta, m, u, theta_out, m_out, u_out, n, b1, c1, b2, eps, step);
  return info.Env().Undefined();
}

// The Adam loop, with the variant a template parameter so that it vectorises.
template <bool Corrected>
void AdamLoop(const float *g, const float *theta, const float *m, const float *v, float *theta_out, float *m_out,
              float *v_out, int64_t n, float b1, float c1, float b2, float c2, float eps, float alpha, float inv_bc2) {
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    const float gi = g[i];
    const float mi = b1 * m[i] + c1 * gi;
    const float vi = b2 * v[i] + c2 * (gi * gi);
    const float root = std::sqrt(Corrected ? vi * inv_bc2 : vi);
    theta_out[i] = theta[i] - (alpha * mi) / (root + eps);
    m_out[i] = mi;
    v_out[i] = vi;
  }
}

// adam(g, theta, m, v, thetaOut, mOut, vOut, beta1, oneMinusBeta1, beta2, oneMinusBeta2, eps, alpha, invBc2,
//      biasCorrected)
//   m' = beta1 m + (1 - beta1) g;   v' = beta2 v + (1 - beta2) g^2
//   theta' = theta - alpha m' / (sqrt(v') + eps)              (epsilon-hat: tf.keras)
//   theta' = theta - alpha m' / (sqrt(v' invBc2) + eps)       (bias-corrected: PyTorch)
Napi::Value Adam(const Napi::CallbackInfo &info) {
  const float *g = F32(info[0], "g");
  const float *theta = F32(info[1], "theta");
  const float *m = F32(info[2], "m");
  const float *v = F32(info[3], "v");
  float *theta_out = F32(info[4], "thetaOut");
  float *m_out = F32(info[5], "mOut");
  float *v_out = F32(info[6], "vOut");
  const int64_t n = Len(info[0]);
  for (int k = 1; k <= 6; k++) Require(Len(info[k]) == n, info.Env(), "adam: arrays differ in size");
  const float b1 = static_cast<float>(Dbl(info[7])), c1 = static_cast<float>(Dbl(info[8]));
  const float b2 = static_cast<float>(Dbl(info[9])), c2 = static_cast<float>(Dbl(info[10]));
  const float eps = static_cast<float>(Dbl(info[11])), alpha = static_cast<float>(Dbl(info[12]));
  const float inv_bc2 = static_cast<float>(Dbl(info[13]));
  const bool corrected = info[14].ToBoolean().Value();
  if (corrected) AdamLoop<true>(g, theta, m, v, theta_out, m_out, v_out, n, b1, c1, b2, c2, eps, alpha, inv_bc2);
  else AdamLoop<false>(g, theta, m, v, theta_out, m_out, v_out, n, b1, c1, b2, c2, eps, alpha, inv_bc2);
  return info.Env().Undefined();
}

}  // namespace

void InitOptim(Napi::Env env, Napi::Object exports) {
  exports.Set("adamax", Napi::Function::New(env, Adamax));
  exports.Set("adam", Napi::Function::New(env, Adam));
}

}  // namespace ob
