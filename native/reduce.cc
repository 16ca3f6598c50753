// Reductions over a block of axes, seen as x[outer, reduce, inner] -> out[outer, inner]. Sums accumulate
// in double, as TF.js's JavaScript Sum does, so the two agree to float32 rounding.
#include <omp.h>
#include <algorithm>
#include <cmath>
#include <vector>
#include "common.h"

namespace ob {
namespace {

template <typename Init, typename Step, typename Combine, typename Finish>
void Run(const float *x, float *out, int64_t outer, int64_t r, int64_t inner, Init init, Step step, Combine combine,
         Finish finish) {
  if (inner == 1) {
#pragma omp parallel for if (outer * r > kParallelMin)
    for (int64_t o = 0; o < outer; o++) {
      const float *p = x + o * r;
      double acc = init(p[0]);
      for (int64_t j = 0; j < r; j++) acc = step(acc, p[j]);
      out[o] = finish(acc);
    }
    return;
  }
  constexpr int64_t kChunk = 1024;
  const int64_t chunks = (inner + kChunk - 1) / kChunk;
  const int threads = omp_get_max_threads();
  if (outer * chunks < threads && r >= 2 * threads && outer * r * inner > kParallelMin) {
    // Few output blocks but a long reduction (a bias gradient: sum over N*H*W rows of C values):
    // each thread reduces a slice of the rows, then the partial results are combined in order.
    std::vector<std::vector<double>> part(threads, std::vector<double>(inner));
    for (int64_t o = 0; o < outer; o++) {
      const float *base = x + o * r * inner;
#pragma omp parallel num_threads(threads)
      {
        const int t = omp_get_thread_num(), nt = omp_get_num_threads();
        const int64_t lo = r * t / nt, hi = r * (t + 1) / nt;
        double *acc = part[t].data();
        for (int64_t i = 0; i < inner; i++) acc[i] = init(base[lo * inner + i]);
        for (int64_t j = lo; j < hi; j++) {
          const float *p = base + j * inner;
          for (int64_t i = 0; i < inner; i++) acc[i] = step(acc[i], p[i]);
        }
        for (int64_t i = 0; i < inner; i++) part[t][i] = acc[i];
      }
      const int used = std::min<int64_t>(threads, r);
      for (int64_t i = 0; i < inner; i++) {
        double v = part[0][i];
        for (int t = 1; t < used; t++) v = combine(v, part[t][i]);
        out[o * inner + i] = finish(v);
      }
    }
    return;
  }
#pragma omp parallel if (outer * r * inner > kParallelMin)
  {
    std::vector<double> acc(std::min(kChunk, inner));
#pragma omp for
    for (int64_t t = 0; t < outer * chunks; t++) {
      const int64_t o = t / chunks, start = (t % chunks) * kChunk, n = std::min(kChunk, inner - start);
      const float *base = x + o * r * inner + start;
      for (int64_t i = 0; i < n; i++) acc[i] = init(base[i]);
      for (int64_t j = 0; j < r; j++) {
        const float *p = base + j * inner;
        for (int64_t i = 0; i < n; i++) acc[i] = step(acc[i], p[i]);
      }
      float *po = out + o * inner + start;
      for (int64_t i = 0; i < n; i++) po[i] = finish(acc[i]);
    }
  }
}

// reduce(op, x, out, outer, reduce, inner)
Napi::Value ReduceOp(const Napi::CallbackInfo &info) {
  const int op = static_cast<int>(Int(info[0]));
  const float *x = F32(info[1], "x");
  float *out = F32(info[2], "out");
  const int64_t outer = Int(info[3]), r = Int(info[4]), inner = Int(info[5]);
  Require(r >= 1 && Len(info[1]) == outer * r * inner && Len(info[2]) == outer * inner, info.Env(),
          "reduce: array sizes do not match the dimensions");
  auto id = [](float v) { return static_cast<double>(v); };
  auto zero = [](float) { return 0.0; };
  auto to_f = [](double v) { return static_cast<float>(v); };
  auto add = [](double a, double b) { return a + b; };
  // NaN wins, as in the JavaScript kernels (a NaN compares false with everything after it).
  auto max = [](double a, double b) { return (std::isnan(b) || b > a) ? b : a; };
  auto min = [](double a, double b) { return (std::isnan(b) || b < a) ? b : a; };
  switch (op) {
    case kReduceSum: Run(x, out, outer, r, inner, zero, [](double a, float v) { return a + v; }, add, to_f); break;
    case kReduceMean: {
      // As the JavaScript kernel: each value is divided by the count in float32, then summed.
      const float cnt = static_cast<float>(r);
      Run(x, out, outer, r, inner, zero, [cnt](double a, float v) { return a + static_cast<double>(v / cnt); }, add,
          to_f);
      break;
    }
    case kReduceMax: Run(x, out, outer, r, inner, id, max, max, to_f); break;
    case kReduceMin: Run(x, out, outer, r, inner, id, min, min, to_f); break;
    default: throw Napi::RangeError::New(info.Env(), "reduce: unknown op " + std::to_string(op));
  }
  return info.Env().Undefined();
}

// argMax(x, out: Int32Array, outer, reduce): index of the first maximum along the last axis.
Napi::Value ArgMax(const Napi::CallbackInfo &info) {
  const float *x = F32(info[0], "x");
  Require(info[1].IsTypedArray() && info[1].As<Napi::TypedArray>().TypedArrayType() == napi_int32_array,
          info.Env(), "argMax: out must be an Int32Array");
  int32_t *out = info[1].As<Napi::Int32Array>().Data();
  const int64_t outer = Int(info[2]), r = Int(info[3]);
  Require(r >= 1 && Len(info[0]) == outer * r &&
              static_cast<int64_t>(info[1].As<Napi::Int32Array>().ElementLength()) == outer,
          info.Env(), "argMax: array sizes do not match the dimensions");
#pragma omp parallel for if (outer * r > kParallelMin)
  for (int64_t o = 0; o < outer; o++) {
    const float *p = x + o * r;
    float best = p[0];
    int32_t at = 0;
    for (int64_t j = 0; j < r; j++)
      if (p[j] > best) {
        best = p[j];
        at = static_cast<int32_t>(j);
      }
    out[o] = at;
  }
  return info.Env().Undefined();
}

}  // namespace

void InitReduce(Napi::Env env, Napi::Object exports) {
  exports.Set("reduce", Napi::Function::New(env, ReduceOp));
  exports.Set("argMax", Napi::Function::New(env, ArgMax));
}

}  // namespace ob
