// Kernels that broadcast one shape to another: binary ops with NumPy broadcasting, and Tile.
#include <algorithm>
#include <cmath>
#include <limits>
#include "common.h"

namespace ob {

namespace {

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

void InitBroadcast(Napi::Env env, Napi::Object exports) {
  exports.Set("binary", Napi::Function::New(env, BinaryOp));
  exports.Set("tile", Napi::Function::New(env, Tile));
}

}  // namespace ob
