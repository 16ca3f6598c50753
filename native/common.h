// Shared helpers for the optbench native kernels: argument unpacking, the oneDNN engine and stream,
// and the OpenMP work-size threshold.
#pragma once
#include <napi.h>
#include <oneapi/dnnl/dnnl.hpp>
#include <csignal>
#include <cstring>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>
#include "ops.h"

namespace ob {

dnnl::engine &Engine();
dnnl::stream &Stream();

// Holds off asynchronous signals on this thread while oneDNN runs. oneDNN 2.6's JIT kernels (its sgemm at
// least) keep live data below the stack pointer, beyond the 128-byte red zone that a signal frame spares:
// a signal handled on this thread mid-kernel (V8's SIGPROF sampling under --cpu-prof, a SIGINT, SIGCHLD or
// SIGWINCH that Node handles) overwrites it, and the kernel then corrupts the heap. Reproduced with a plain
// C++ loop of dnnl_sgemm calls under setitimer(ITIMER_PROF): it aborts unless the handler runs on an
// alternate stack. Signals that arrive meanwhile stay pending and are handled when the call returns.
// The synchronous ones (a fault raised by the code itself) are never blocked.
class SignalsDeferred {
 public:
  SignalsDeferred();
  ~SignalsDeferred();
  SignalsDeferred(const SignalsDeferred &) = delete;
  SignalsDeferred &operator=(const SignalsDeferred &) = delete;

 private:
  sigset_t saved_;
};

// Below this many elements a loop runs on one thread: waking the OpenMP team costs more than it saves.
constexpr int64_t kParallelMin = 1 << 15;

inline float *F32(const Napi::Value &v, const char *what) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(v.Env(), std::string(what) + " must be a Float32Array");
  return v.As<Napi::Float32Array>().Data();
}

inline int64_t Len(const Napi::Value &v) {
  return static_cast<int64_t>(v.As<Napi::Float32Array>().ElementLength());
}

inline int64_t Int(const Napi::Value &v) { return v.As<Napi::Number>().Int64Value(); }
inline double Dbl(const Napi::Value &v) { return v.As<Napi::Number>().DoubleValue(); }

inline std::vector<int64_t> Ints(const Napi::Value &v) {
  Napi::Array a = v.As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) out[i] = a.Get(i).As<Napi::Number>().Int64Value();
  return out;
}

inline void Require(bool ok, const Napi::Env &env, const std::string &msg) {
  if (!ok) throw Napi::RangeError::New(env, msg);
}

inline int64_t Product(const std::vector<int64_t> &d) {
  int64_t p = 1;
  for (auto x : d) p *= x;
  return p;
}

// Precision of convolutions and matrix products (lib/backend/native-precision.ts): fp32; bf16 through
// oneDNN's bf16 primitives (bf16 operands, fp32 accumulation and output); or bf16 emulated: the operands
// rounded to bf16 and the fp32 primitives run on them, which equals oneDNN's bf16 up to summation order
// (a product of two bf16 values is exact in fp32). Everything else stays fp32 in every mode. The modes:
// `Precision` in ops.h.
Precision CurrentPrecision();

// float -> bf16 bits, round to nearest even (NaN stays a quiet NaN), as oneDNN converts.
inline uint16_t ToBf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}
inline float FromBf16(uint16_t b) {
  const uint32_t u = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// A process-wide scratch buffer for one operand (the kernels run on the JavaScript thread, one at a time).
template <typename T>
T *Scratch(std::vector<T> &buffer, int64_t n) {
  if (static_cast<int64_t>(buffer.size()) < n) buffer.resize(n);
  return buffer.data();
}
// Whether oneDNN offers `pd` (built by `make`, which may throw) in an implementation other than its
// reference loops; remembered per key. Where it does not, bf16 is emulated for that primitive (the same
// numbers up to summation order, at fp32 speed) instead of running a reference loop 10-100x slower.
template <typename Make>
bool FastBf16(const std::string &key, Make make) {
  static std::unordered_map<std::string, bool> known;
  auto it = known.find(key);
  if (it != known.end()) return it->second;
  bool fast = false;
  try {
    fast = std::string(make().impl_info_str()).rfind("ref", 0) != 0;
  } catch (const dnnl::error &) {
    fast = false;
  }
  return known[key] = fast;
}

// x converted to bf16 into `out`; x rounded to bf16 and kept as float into `out` (the emulation).
void ConvertToBf16(const float *x, uint16_t *out, int64_t n);
void RoundToBf16(const float *x, float *out, int64_t n);

// y = exp(x) exactly as the Exp kernel computes it (same vector and scalar paths at the same positions).
void ExpArray(const float *x, float *y, int64_t n);

// Applies a fused activation in place, with the JavaScript backend's formulas (computed in double,
// then rounded, as JavaScript does).
void ApplyActivation(float *y, int64_t n, int act, float alpha);
// y[r, c] = act(y[r, c] + bias[c]) in place over rows x cols (no bias when bias is null), bit-identical
// to the Add kernel broadcasting the bias followed by the activation's own kernel.
void AddBiasActivation(float *y, int64_t rows, int64_t cols, const float *bias, int act, float alpha);

void InitConv(Napi::Env env, Napi::Object exports);
void InitMatmul(Napi::Env env, Napi::Object exports);
void InitPool(Napi::Env env, Napi::Object exports);
void InitElementwise(Napi::Env env, Napi::Object exports);
void InitBroadcast(Napi::Env env, Napi::Object exports);
void InitReduce(Napi::Env env, Napi::Object exports);
void InitNorm(Napi::Env env, Napi::Object exports);
void InitOptim(Napi::Env env, Napi::Object exports);
void InitRandom(Napi::Env env, Napi::Object exports);
void InitPrecision(Napi::Env env, Napi::Object exports);
void InitLoss(Napi::Env env, Napi::Object exports);

}  // namespace ob
