// Element-wise kernels: unary maps, broadcasting binary ops, AddN and the fused activations.
// Transcendental functions are evaluated in double and rounded once, as TF.js's JavaScript kernels do
// (Math.exp etc. on float32 inputs), so results agree to the last bit or within one rounding.
#include <algorithm>
#include <cmath>
#include <limits>
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

// One broadcast dimension: its size and each operand's stride (0 where it is broadcast).
struct Dim {
  int64_t size, sa, sb;
};

// Collapses an output shape and two broadcastable input shapes into as few dimensions as possible.
std::vector<Dim> Collapse(std::vector<int64_t> as, std::vector<int64_t> bs, const std::vector<int64_t> &os) {
  const size_t r = os.size();
  as.insert(as.begin(), r - as.size(), 1);
  bs.insert(bs.begin(), r - bs.size(), 1);
  std::vector<Dim> dims;  // innermost first
  int64_t ca = 1, cb = 1;
  for (size_t k = r; k-- > 0;) {
    const int64_t sa = as[k] == 1 ? 0 : ca, sb = bs[k] == 1 ? 0 : cb;
    ca *= as[k];
    cb *= bs[k];
    if (os[k] == 1) continue;
    if (!dims.empty()) {
      Dim &in = dims.back();
      const bool ma = (sa == 0 && in.sa == 0) || (sa != 0 && in.sa != 0 && sa == in.sa * in.size);
      const bool mb = (sb == 0 && in.sb == 0) || (sb != 0 && in.sb != 0 && sb == in.sb * in.size);
      if (ma && mb) {
        in.size *= os[k];
        continue;
      }
    }
    dims.push_back({os[k], sa, sb});
  }
  if (dims.empty()) dims.push_back({1, 0, 0});
  std::reverse(dims.begin(), dims.end());
  return dims;
}

template <typename F>
void Broadcast(const float *a, const float *b, float *out, const std::vector<Dim> &dims, F f) {
  const Dim inner = dims.back();
  const int64_t len = inner.size;
  int64_t outer = 1;
  for (size_t k = 0; k + 1 < dims.size(); k++) outer *= dims[k].size;
  constexpr int64_t kChunk = 8192;
  const int64_t chunks = (len + kChunk - 1) / kChunk;
  const int64_t tasks = outer * chunks;
#pragma omp parallel for if (outer * len > kParallelMin)
  for (int64_t t = 0; t < tasks; t++) {
    int64_t o = t / chunks;
    const int64_t start = (t % chunks) * kChunk, n = std::min(kChunk, len - start);
    int64_t oa = 0, ob = 0;
    for (size_t k = dims.size() - 1; k-- > 0;) {
      const int64_t i = o % dims[k].size;
      o /= dims[k].size;
      oa += i * dims[k].sa;
      ob += i * dims[k].sb;
    }
    const float *pa = a + oa + (inner.sa ? start : 0);
    const float *pb = b + ob + (inner.sb ? start : 0);
    float *po = out + (t / chunks) * len + start;
    if (inner.sa && inner.sb) {
#pragma omp simd
      for (int64_t i = 0; i < n; i++) po[i] = f(pa[i], pb[i]);
    } else if (inner.sa) {
      const float vb = *pb;
#pragma omp simd
      for (int64_t i = 0; i < n; i++) po[i] = f(pa[i], vb);
    } else if (inner.sb) {
      const float va = *pa;
#pragma omp simd
      for (int64_t i = 0; i < n; i++) po[i] = f(va, pb[i]);
    } else {
      const float v = f(*pa, *pb);
      for (int64_t i = 0; i < n; i++) po[i] = v;
    }
  }
}

// binary(op, a, aShape, b, bShape, out, outShape)
Napi::Value BinaryOp(const Napi::CallbackInfo &info) {
  const int op = static_cast<int>(Int(info[0]));
  const float *a = F32(info[1], "a");
  auto as = Ints(info[2]);
  const float *b = F32(info[3], "b");
  auto bs = Ints(info[4]);
  float *out = F32(info[5], "out");
  auto os = Ints(info[6]);
  Require(as.size() <= os.size() && bs.size() <= os.size(), info.Env(), "binary: input rank exceeds output rank");
  Require(Len(info[1]) == Product(as) && Len(info[3]) == Product(bs) && Len(info[5]) == Product(os), info.Env(),
          "binary: array sizes do not match the shapes");
  for (size_t k = 0; k < os.size(); k++) {
    const int64_t da = k + as.size() >= os.size() ? as[k + as.size() - os.size()] : 1;
    const int64_t db = k + bs.size() >= os.size() ? bs[k + bs.size() - os.size()] : 1;
    Require((da == os[k] || da == 1) && (db == os[k] || db == 1), info.Env(), "binary: shapes do not broadcast");
  }
  if (Product(os) == 0) return info.Env().Undefined();
  const auto dims = Collapse(as, bs, os);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  switch (op) {
    case kAdd: Broadcast(a, b, out, dims, [](float x, float y) { return x + y; }); break;
    case kSub: Broadcast(a, b, out, dims, [](float x, float y) { return x - y; }); break;
    case kMul: Broadcast(a, b, out, dims, [](float x, float y) { return x * y; }); break;
    case kDiv: Broadcast(a, b, out, dims, [](float x, float y) { return x / y; }); break;
    case kMax:
      Broadcast(a, b, out, dims, [nan](float x, float y) { return (x != x || y != y) ? nan : (x > y ? x : y); });
      break;
    case kMin:
      Broadcast(a, b, out, dims, [nan](float x, float y) { return (x != x || y != y) ? nan : (x < y ? x : y); });
      break;
    case kSqDiff:
      Broadcast(a, b, out, dims, [](float x, float y) {
        const double d = static_cast<double>(x) - static_cast<double>(y);
        return static_cast<float>(d * d);
      });
      break;
    case kPow:
      Broadcast(a, b, out, dims, [](float x, float y) {
        return static_cast<float>(std::pow(static_cast<double>(x), static_cast<double>(y)));
      });
      break;
    default: throw Napi::RangeError::New(info.Env(), "binary: unknown op " + std::to_string(op));
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

// tile(x, xShape, out, reps): out has shape xShape[k] * reps[k]; out[i] = x[i mod xShape, per axis].
Napi::Value Tile(const Napi::CallbackInfo &info) {
  const float *x = F32(info[0], "x");
  const auto xs = Ints(info[1]);
  float *out = F32(info[2], "out");
  const auto reps = Ints(info[3]);
  const size_t r = xs.size();
  Require(r >= 1 && reps.size() == r && Len(info[0]) == Product(xs), info.Env(), "tile: shapes do not match");
  std::vector<int64_t> os(r);
  for (size_t k = 0; k < r; k++) os[k] = xs[k] * reps[k];
  Require(Len(info[2]) == Product(os), info.Env(), "tile: output size does not match");
  const int64_t inner = xs[r - 1], rows = Product(os) / os[r - 1];
  if (rows == 0 || inner == 0) return info.Env().Undefined();
#pragma omp parallel for if (Product(os) > kParallelMin)
  for (int64_t row = 0; row < rows; row++) {
    // Source row: each outer output index taken modulo the input's extent on that axis.
    int64_t rem = row, src = 0, stride = inner;
    for (size_t k = r - 1; k-- > 0;) {
      const int64_t i = rem % os[k];
      rem /= os[k];
      src += (i % xs[k]) * stride;
      stride *= xs[k];
    }
    float *o = out + row * os[r - 1];
    for (int64_t rep = 0; rep < reps[r - 1]; rep++) std::copy(x + src, x + src + inner, o + rep * inner);
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

void InitElementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("unary", Napi::Function::New(env, UnaryOp));
  exports.Set("activationGrad", Napi::Function::New(env, ActivationGradOp));
  exports.Set("binary", Napi::Function::New(env, BinaryOp));
  exports.Set("addN", Napi::Function::New(env, AddN));
  exports.Set("tile", Napi::Function::New(env, Tile));
}

}  // namespace ob
