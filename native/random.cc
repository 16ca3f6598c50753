// Dropout masks from a counter-based generator: element i's uniform number is a hash of (seed, i), so
// the mask is reproducible from the seed, needs no generator state, and fills in parallel. TF.js draws
// them one by one in JavaScript (seedrandom's alea), about 30 ms per million on this machine.
#include <cmath>
#include "common.h"

namespace ob {
namespace {

// SplitMix64's finaliser: a bijective 64-bit mix with good avalanche.
inline uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// dropoutMask(out, rate, seed): out[i] = 1 / (1 - rate) with probability 1 - rate, else 0, as TF.js's
// floor(u + keep) / keep with u uniform on [0, 1) in steps of 2^-24.
Napi::Value DropoutMask(const Napi::CallbackInfo &info) {
  float *out = F32(info[0], "out");
  const double rate = Dbl(info[1]);
  Require(rate >= 0 && rate < 1, info.Env(), "dropoutMask: rate must be in [0, 1)");
  const double seed = Dbl(info[2]);
  Require(std::isfinite(seed), info.Env(), "dropoutMask: seed must be a finite number");
  const int64_t n = Len(info[0]);
  const float keep = static_cast<float>(1.0 - rate);
  const float scale = 1.f / keep;
  const uint64_t key = Mix(static_cast<uint64_t>(static_cast<int64_t>(seed)) ^ 0x5DEECE66DULL);
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) {
    const uint64_t z = Mix(key + static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ULL);
    const float u = static_cast<float>(z >> 40) * (1.f / 16777216.f);
    out[i] = std::floor(u + keep) >= 1.f ? scale : 0.f;
  }
  return info.Env().Undefined();
}

}  // namespace

void InitRandom(Napi::Env env, Napi::Object exports) {
  exports.Set("dropoutMask", Napi::Function::New(env, DropoutMask));
}

}  // namespace ob
