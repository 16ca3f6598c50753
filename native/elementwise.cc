// Element-wise kernels: unary maps, activation gradients, AddN and the fused activations (the binary ops,
// which broadcast, are broadcast.cc).
// Transcendental functions are evaluated in double and rounded once, as TF.js's JavaScript kernels do
// (Math.exp etc. on float32 inputs), so results agree to the last bit or within one rounding.
#include <algorithm>
#include <cmath>
#include "common.h"
#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif
// glibc's vector math (libmvec): 8 (AVX-512) or 4 (AVX2) doubles at a time, within 4 ulp of double, so
// identical to the scalar double functions once rounded to float32 except in ~1e-8 of cases (then by one
// float32 ulp).
#if defined(__AVX512F__)
extern "C" __m512d _ZGVeN8v_exp(__m512d);
extern "C" __m512d _ZGVeN8v_tanh(__m512d);
#elif defined(__AVX2__)
extern "C" __m256d _ZGVdN4v_exp(__m256d);
extern "C" __m256d _ZGVdN4v_tanh(__m256d);
#endif

namespace ob {

namespace {

template <typename F>
void Map(const float *x, float *y, int64_t n, F f) {
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) y[i] = f(x[i]);
}

inline float Sigmoid(float v) { return static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(v)))); }
inline float Tanh(float v) { return static_cast<float>(std::tanh(static_cast<double>(v))); }

// y = f(x) evaluated in double: a vector of lanes at a time through vec where AVX-512 or AVX2 is
// available, else scalar.
#if defined(__AVX512F__)
using VecD = __m512d;
constexpr int64_t kLanes = 8;
inline VecD LoadD(const float *p) { return _mm512_cvtps_pd(_mm256_loadu_ps(p)); }
inline void StoreD(float *p, VecD d) { _mm256_storeu_ps(p, _mm512_cvtpd_ps(d)); }
inline VecD SetD(double v) { return _mm512_set1_pd(v); }
inline VecD AddD(VecD a, VecD b) { return _mm512_add_pd(a, b); }
inline VecD SubD(VecD a, VecD b) { return _mm512_sub_pd(a, b); }
inline VecD DivD(VecD a, VecD b) { return _mm512_div_pd(a, b); }
inline VecD ExpVec(VecD d) { return _ZGVeN8v_exp(d); }
inline VecD TanhVec(VecD d) { return _ZGVeN8v_tanh(d); }
#define OB_VEC_MATH 1
#elif defined(__AVX2__)
using VecD = __m256d;
constexpr int64_t kLanes = 4;
inline VecD LoadD(const float *p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
inline void StoreD(float *p, VecD d) { _mm_storeu_ps(p, _mm256_cvtpd_ps(d)); }
inline VecD SetD(double v) { return _mm256_set1_pd(v); }
inline VecD AddD(VecD a, VecD b) { return _mm256_add_pd(a, b); }
inline VecD SubD(VecD a, VecD b) { return _mm256_sub_pd(a, b); }
inline VecD DivD(VecD a, VecD b) { return _mm256_div_pd(a, b); }
inline VecD ExpVec(VecD d) { return _ZGVdN4v_exp(d); }
inline VecD TanhVec(VecD d) { return _ZGVdN4v_tanh(d); }
#define OB_VEC_MATH 1
#endif

template <typename Vec, typename Scalar>
void MapDouble(const float *x, float *y, int64_t n, Vec vec, Scalar scalar) {
#ifdef OB_VEC_MATH
  const int64_t blocks = n / kLanes;
#pragma omp parallel for if (n > kParallelMin)
  for (int64_t b = 0; b < blocks; b++) StoreD(y + kLanes * b, vec(LoadD(x + kLanes * b)));
  for (int64_t i = blocks * kLanes; i < n; i++) y[i] = scalar(x[i]);
#else
  (void)vec;
  Map(x, y, n, scalar);
#endif
}

#ifdef OB_VEC_MATH
inline VecD SigmoidVec(VecD d) {
  const VecD one = SetD(1.0);
  return DivD(one, AddD(one, ExpVec(SubD(SetD(0.0), d))));
}
#else
inline int ExpVec(int) { return 0; }
inline int SigmoidVec(int) { return 0; }
inline int TanhVec(int) { return 0; }
#endif

// unary(op, x, y, alpha)
Napi::Value UnaryOp(const Napi::CallbackInfo &info) {
  const int op = static_cast<int>(Int(info[0]));
  const float *x = F32(info[1], "x");
  float *y = F32(info[2], "y");
  const int64_t n = Len(info[1]);
  Require(Len(info[2]) == n, info.Env(), "unary: input and output sizes differ");
  const float alpha = static_cast<float>(Dbl(info[3]));
  switch (op) {
    case kExp:
      MapDouble(x, y, n, ExpVec, [](float v) { return static_cast<float>(std::exp(static_cast<double>(v))); });
      break;
    case kLog: Map(x, y, n, [](float v) { return static_cast<float>(std::log(static_cast<double>(v))); }); break;
    case kSqrt: Map(x, y, n, [](float v) { return static_cast<float>(std::sqrt(static_cast<double>(v))); }); break;
    case kRsqrt:
      Map(x, y, n, [](float v) { return static_cast<float>(1.0 / std::sqrt(static_cast<double>(v))); });
      break;
    case kSquare: Map(x, y, n, [](float v) { return v * v; }); break;
    case kAbs: Map(x, y, n, [](float v) { return std::fabs(v); }); break;
    case kNeg: Map(x, y, n, [](float v) { return -v; }); break;
    case kReluU: Map(x, y, n, [](float v) { return v < 0.f ? 0.f : v; }); break;
    case kRelu6U: Map(x, y, n, [](float v) { return v < 0.f ? 0.f : (v > 6.f ? 6.f : v); }); break;
    case kSigmoidU: MapDouble(x, y, n, SigmoidVec, Sigmoid); break;
    case kTanh: MapDouble(x, y, n, TanhVec, Tanh); break;
    case kSoftplus: {
      // tf.nn.softplus's thresholds, as in the JavaScript kernel.
      const double threshold = std::log(1.1920928955078125e-7) + 2.0;
      Map(x, y, n, [threshold](float v) {
        const double d = v, e = std::exp(d);
        if (d < threshold) return static_cast<float>(e);
        if (d > -threshold) return v;
        return static_cast<float>(std::log(1.0 + e));
      });
      break;
    }
    case kStep: {
      // Selects rather than a branch on NaN, so that it vectorises; NaN stays NaN.
#pragma omp parallel for simd if (n > kParallelMin)
      for (int64_t i = 0; i < n; i++) {
        const float v = x[i];
        const float r = v > 0.f ? 1.f : alpha;
        y[i] = std::isunordered(v, v) ? v : r;
      }
      break;
    }
    case kReciprocal: Map(x, y, n, [](float v) { return 1.f / v; }); break;
    case kFloor: Map(x, y, n, [](float v) { return std::floor(v); }); break;
    case kSign: Map(x, y, n, [](float v) { return v < 0.f ? -1.f : (v > 0.f ? 1.f : 0.f); }); break;
    case kEluU:
      Map(x, y, n, [](float v) { return v >= 0.f ? v : static_cast<float>(std::exp(static_cast<double>(v)) - 1.0); });
      break;
    case kLeakyReluU: Map(x, y, n, [alpha](float v) { return v < 0.f ? alpha * v : v; }); break;
    case kLog1p:
      Map(x, y, n, [](float v) { return static_cast<float>(std::log1p(static_cast<double>(v))); });
      break;
    case kExpm1:
      Map(x, y, n, [](float v) { return static_cast<float>(std::expm1(static_cast<double>(v))); });
      break;
    default: throw Napi::RangeError::New(info.Env(), "unary: unknown op " + std::to_string(op));
  }
  return info.Env().Undefined();
}

// activationGrad(op, v, dy, dx): the gradient of an activation in one pass, in TF.js's own order of
// float32 operations (its Tanh, Sigmoid and Relu gradients are three element-wise ops each):
//   tanh:    dx = (1 - y*y) * dy          (v = y, the activation's output)
//   sigmoid: dx = dy * (y * (1 - y))      (v = y)
//   relu:    dx = dy * step(x)            (v = x, its input; step is 1 above 0, NaN for NaN, else 0)
Napi::Value ActivationGradOp(const Napi::CallbackInfo &info) {
  const int op = static_cast<int>(Int(info[0]));
  const float *v = F32(info[1], "v");
  const float *dy = F32(info[2], "dy");
  float *dx = F32(info[3], "dx");
  const int64_t n = Len(info[1]);
  Require(Len(info[2]) == n && Len(info[3]) == n, info.Env(), "activationGrad: arrays differ in size");
  switch (op) {
    case kTanhGrad:
#pragma omp parallel for simd if (n > kParallelMin)
      for (int64_t i = 0; i < n; i++) dx[i] = (1.f - v[i] * v[i]) * dy[i];
      break;
    case kSigmoidGrad:
#pragma omp parallel for simd if (n > kParallelMin)
      for (int64_t i = 0; i < n; i++) dx[i] = dy[i] * (v[i] * (1.f - v[i]));
      break;
    case kReluGrad:
#pragma omp parallel for simd if (n > kParallelMin)
      for (int64_t i = 0; i < n; i++) {
        const float x = v[i];
        const float step = std::isunordered(x, x) ? x : (x > 0.f ? 1.f : 0.f);
        dx[i] = dy[i] * step;
      }
      break;
    default: throw Napi::RangeError::New(info.Env(), "activationGrad: unknown op " + std::to_string(op));
  }
  return info.Env().Undefined();
}

// addN([x0, x1, ...], out): sums in input order, rounding after each addition like the JavaScript kernel.
Napi::Value AddN(const Napi::CallbackInfo &info) {
  Napi::Array xs = info[0].As<Napi::Array>();
  float *out = F32(info[1], "out");
  const int64_t n = Len(info[1]);
  std::vector<const float *> ps;
  for (uint32_t i = 0; i < xs.Length(); i++) {
    Napi::Value v = xs.Get(i);
    Require(Len(v) == n, info.Env(), "addN: inputs differ in size");
    ps.push_back(F32(v, "addN input"));
  }
  Require(!ps.empty(), info.Env(), "addN: needs at least one input");
#pragma omp parallel for if (n * static_cast<int64_t>(ps.size()) > kParallelMin)
  for (int64_t c = 0; c < n; c += 4096) {
    const int64_t e = std::min(n, c + 4096);
    for (int64_t i = c; i < e; i++) out[i] = ps[0][i];
    for (size_t k = 1; k < ps.size(); k++) {
      const float *p = ps[k];
#pragma omp simd
      for (int64_t i = c; i < e; i++) out[i] += p[i];
    }
  }
  return info.Env().Undefined();
}

}  // namespace

void ExpArray(const float *x, float *y, int64_t n) {
  MapDouble(x, y, n, ExpVec, [](float v) { return static_cast<float>(std::exp(static_cast<double>(v))); });
}

void ApplyActivation(float *y, int64_t n, int act, float alpha) {
  switch (act) {
    case kLinear: break;
    case kRelu: Map(y, y, n, [](float v) { return v < 0.f ? 0.f : v; }); break;
    case kRelu6: Map(y, y, n, [](float v) { return v < 0.f ? 0.f : (v > 6.f ? 6.f : v); }); break;
    case kElu:
      Map(y, y, n, [](float v) { return v >= 0.f ? v : static_cast<float>(std::exp(static_cast<double>(v)) - 1.0); });
      break;
    case kLeakyRelu: Map(y, y, n, [alpha](float v) { return v < 0.f ? alpha * v : v; }); break;
    case kSigmoid: MapDouble(y, y, n, SigmoidVec, Sigmoid); break;
    case kTanhAct: MapDouble(y, y, n, TanhVec, Tanh); break;
    default: throw std::runtime_error("unknown fused activation");
  }
}

void AddBiasActivation(float *y, int64_t rows, int64_t cols, const float *bias, int act, float alpha) {
  // The ReLU family is exact per element, so it is applied in the bias's pass; the others through
  // ApplyActivation over the whole array, whose vector and scalar paths then fall on the same elements as
  // in the activation's kernel.
  const bool in_pass = act == kLinear || act == kRelu || act == kRelu6 || act == kLeakyRelu;
  if (bias != nullptr) {
#pragma omp parallel for if (rows * cols > kParallelMin)
    for (int64_t r = 0; r < rows; r++) {
      float *row = y + r * cols;
      switch (in_pass ? act : kLinear) {
        case kRelu:
#pragma omp simd
          for (int64_t c = 0; c < cols; c++) {
            const float v = row[c] + bias[c];
            row[c] = v < 0.f ? 0.f : v;
          }
          break;
        case kRelu6:
#pragma omp simd
          for (int64_t c = 0; c < cols; c++) {
            const float v = row[c] + bias[c];
            row[c] = v < 0.f ? 0.f : (v > 6.f ? 6.f : v);
          }
          break;
        case kLeakyRelu:
#pragma omp simd
          for (int64_t c = 0; c < cols; c++) {
            const float v = row[c] + bias[c];
            row[c] = v < 0.f ? alpha * v : v;
          }
          break;
        default:
#pragma omp simd
          for (int64_t c = 0; c < cols; c++) row[c] += bias[c];
      }
    }
    if (in_pass) return;
  }
  ApplyActivation(y, rows * cols, act, alpha);
}

void InitElementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("unary", Napi::Function::New(env, UnaryOp));
  exports.Set("activationGrad", Napi::Function::New(env, ActivationGradOp));
  exports.Set("addN", Napi::Function::New(env, AddN));
}

}  // namespace ob
