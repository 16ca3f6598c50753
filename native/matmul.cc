// Batched matrix products through oneDNN's sgemm, with TF.js's _FusedMatMul epilogue (bias, activation).
#include <omp.h>
#include <memory>
#include <unordered_map>
#include "common.h"

namespace ob {
namespace {

// Below this many multiply-adds a product runs single-threaded (FCNN's 200x100x10 layer: 30 us on one
// thread, 200 us when it waits for the team; measured in a training step).
constexpr int64_t kSerialGemmMacs = 1 << 20;

// Runs the OpenMP regions of its scope on the calling thread alone when `serial`, restoring the team size
// however the scope ends.
class SerialTeam {
 public:
  explicit SerialTeam(bool serial) : team_(omp_get_max_threads()), active_(serial && team_ > 1) {
    if (active_) omp_set_num_threads(1);
  }
  ~SerialTeam() {
    if (active_) omp_set_num_threads(team_);
  }
  SerialTeam(const SerialTeam &) = delete;
  SerialTeam &operator=(const SerialTeam &) = delete;

 private:
  const int team_;
  const bool active_;
};

// A 2-D bf16 product through oneDNN's matmul primitive: a and b in bf16 (transposes as strides), c in fp32.
// Built once per shape and kept.
struct Bf16Product {
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul prim;
  dnnl::memory::desc a, b, c;
};

Bf16Product &GetBf16Product(int64_t m, int64_t n, int64_t k, bool ta, bool tb) {
  static std::unordered_map<std::string, std::unique_ptr<Bf16Product>> cache;
  const std::string key = std::to_string(m) + "," + std::to_string(n) + "," + std::to_string(k) + "," +
                          std::to_string(ta) + std::to_string(tb);
  auto it = cache.find(key);
  if (it != cache.end()) return *it->second;
  using dt = dnnl::memory::data_type;
  auto e = std::make_unique<Bf16Product>();
  e->a = dnnl::memory::desc({m, k}, dt::bf16, ta ? dnnl::memory::dims{1, m} : dnnl::memory::dims{k, 1});
  e->b = dnnl::memory::desc({k, n}, dt::bf16, tb ? dnnl::memory::dims{1, k} : dnnl::memory::dims{n, 1});
  e->c = dnnl::memory::desc({m, n}, dt::f32, dnnl::memory::dims{n, 1});
  e->pd = dnnl::matmul::primitive_desc(dnnl::matmul::desc(e->a, e->b, e->c), Engine());
  e->prim = dnnl::matmul(e->pd);
  return *(cache[key] = std::move(e));
}

// matmulImpl(m, n, k, ta, tb): the oneDNN implementation of the bf16 product, for profiling and tests.
Napi::Value MatmulImpl(const Napi::CallbackInfo &info) {
  SignalsDeferred deferred;
  try {
    return Napi::String::New(info.Env(), GetBf16Product(Int(info[0]), Int(info[1]), Int(info[2]), Int(info[3]) != 0,
                                                        Int(info[4]) != 0)
                                             .pd.impl_info_str());
  } catch (const dnnl::error &e) {
    throw Napi::Error::New(info.Env(), std::string("oneDNN: ") + e.what());
  }
}

// matmul(a, b, out, [batchA, batchB, M, N, K, transA, transB], bias | null, act, alpha)
// a is [batchA, M, K] (or [batchA, K, M] when transA), b is [batchB, K, N] (or [batchB, N, K]);
// a batch of 1 broadcasts. out is [max(batchA, batchB), M, N]; bias has N or 1 elements.
Napi::Value Matmul(const Napi::CallbackInfo &info) {
  float *a = F32(info[0], "a");
  float *b = F32(info[1], "b");
  float *c = F32(info[2], "out");
  auto p = Ints(info[3]);
  Require(p.size() == 7, info.Env(), "matmul: expected 7 dimensions");
  const int64_t ba = p[0], bb = p[1], m = p[2], n = p[3], k = p[4];
  const bool ta = p[5] != 0, tb = p[6] != 0;
  const int64_t batch = ba > bb ? ba : bb;
  Require((ba == batch || ba == 1) && (bb == batch || bb == 1), info.Env(), "matmul: batch sizes do not broadcast");
  Require(Len(info[0]) == ba * m * k && Len(info[1]) == bb * k * n && Len(info[2]) == batch * m * n, info.Env(),
          "matmul: array sizes do not match the dimensions");
  bool has_bias = !info[4].IsNull() && !info[4].IsUndefined();
  float *bias = has_bias ? F32(info[4], "bias") : nullptr;
  const int64_t bias_len = has_bias ? Len(info[4]) : 0;
  Require(!has_bias || bias_len == n || bias_len == 1, info.Env(), "matmul: bias must have N or 1 elements");
  const int act = static_cast<int>(Int(info[5]));
  const float alpha = static_cast<float>(Dbl(info[6]));

  {  // oneDNN runs here: signals deferred, small products on one thread (the epilogue below uses the team)
    SignalsDeferred deferred;
    Precision p = k == 0 ? kFp32 : CurrentPrecision();
    if (p == kBf16 && !FastBf16("mm" + std::to_string(m) + "," + std::to_string(n) + "," + std::to_string(k) + "," +
                                    std::to_string(ta) + std::to_string(tb),
                                [&] { return GetBf16Product(m, n, k, ta, tb).pd; }))
      p = kBf16Emulated;
    static std::vector<uint16_t> a16, b16;
    static std::vector<float> ar, br;
    if (p == kBf16Emulated) {  // operands rounded to bf16, then the fp32 product below
      float *ra = Scratch(ar, ba * m * k), *rb = Scratch(br, bb * k * n);
      RoundToBf16(a, ra, ba * m * k);
      RoundToBf16(b, rb, bb * k * n);
      a = ra;
      b = rb;
    }
    if (p == kBf16) {
      uint16_t *ha = Scratch(a16, ba * m * k), *hb = Scratch(b16, bb * k * n);
      ConvertToBf16(a, ha, ba * m * k);
      ConvertToBf16(b, hb, bb * k * n);
      try {  // FastBf16 built it already
        Bf16Product &e = GetBf16Product(m, n, k, ta, tb);
        for (int64_t i = 0; i < batch; i++) {
          dnnl::memory am(e.a, Engine(), ha + (ba == 1 ? 0 : i) * m * k);
          dnnl::memory bm(e.b, Engine(), hb + (bb == 1 ? 0 : i) * k * n);
          dnnl::memory cm(e.c, Engine(), c + i * m * n);
          e.prim.execute(Stream(), {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
        }
        Stream().wait();
      } catch (const dnnl::error &err) {
        throw Napi::Error::New(info.Env(), std::string("oneDNN: ") + err.what());
      }
    } else {
      // A small product is done before a sleeping OpenMP team would be awake: run it on this thread alone.
      SerialTeam team(m * n * k < kSerialGemmMacs);
      for (int64_t i = 0; i < batch; i++) {
        const float *ai = a + (ba == 1 ? 0 : i) * m * k;
        const float *bi = b + (bb == 1 ? 0 : i) * k * n;
        float *ci = c + i * m * n;
        if (k == 0) {
          for (int64_t j = 0; j < m * n; j++) ci[j] = 0.f;
          continue;
        }
        dnnl_status_t st = dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, 1.f, ai, ta ? m : k, bi, tb ? k : n,
                                      0.f, ci, n);
        if (st != dnnl_success)
          throw Napi::Error::New(info.Env(), "oneDNN sgemm failed with status " + std::to_string(st));
      }
    }
  }
  const int64_t total = batch * m * n;
  if (has_bias) {
#pragma omp parallel for if (total > kParallelMin)
    for (int64_t r = 0; r < batch * m; r++) {
      float *row = c + r * n;
      if (bias_len == n)
        for (int64_t j = 0; j < n; j++) row[j] += bias[j];
      else
        for (int64_t j = 0; j < n; j++) row[j] += bias[0];
    }
  }
  if (act != kLinear) ApplyActivation(c, total, act, alpha);
  return info.Env().Undefined();
}

}  // namespace

void InitMatmul(Napi::Env env, Napi::Object exports) {
  exports.Set("matmul", Napi::Function::New(env, Matmul));
  exports.Set("matmulImpl", Napi::Function::New(env, MatmulImpl));
}

}  // namespace ob
