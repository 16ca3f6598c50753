// The precision of convolutions and matrix products (see `Precision` in common.h), the bf16 conversions,
// and a probe of what oneDNN offers for bf16 on this CPU.
#include <string>
#include "common.h"

namespace ob {

namespace {
Precision precision = kFp32;
}  // namespace

Precision CurrentPrecision() { return precision; }

void ConvertToBf16(const float *x, uint16_t *out, int64_t n) {
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) out[i] = ToBf16(x[i]);
}

void RoundToBf16(const float *x, float *out, int64_t n) {
#pragma omp parallel for simd if (n > kParallelMin)
  for (int64_t i = 0; i < n; i++) out[i] = FromBf16(ToBf16(x[i]));
}

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

const char *IsaName(dnnl::cpu_isa isa) {
  switch (isa) {
    case dnnl::cpu_isa::sse41: return "sse41";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx512_mic: return "avx512_mic";
    case dnnl::cpu_isa::avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    default: return "other";
  }
}

// setPrecision(mode): a code of ops.precision (OB_PRECISIONS in ops.h).
Napi::Value SetPrecision(const Napi::CallbackInfo &info) {
  const int64_t mode = Int(info[0]);
  Require(mode >= 0 && mode < kPrecisionCount, info.Env(), "setPrecision: unknown precision code (see ops.precision)");
  precision = static_cast<Precision>(mode);
  return info.Env().Undefined();
}

Napi::Value GetPrecision(const Napi::CallbackInfo &info) { return Napi::Number::New(info.Env(), precision); }

// bf16Probe(): the implementations oneDNN picks for a bf16 convolution (forward and both gradients, a
// 3x3 layer of the study's CNNs) and a bf16 matrix product (FCNN's first layer), and the CPU's ISA as
// oneDNN sees it. A name starting with "ref" is oneDNN's reference C++ loop: correct, and slow.
Napi::Value Bf16Probe(const Napi::CallbackInfo &info) {
  SignalsDeferred deferred;
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("isa", IsaName(dnnl::get_effective_cpu_isa()));
  auto impl = [](auto make) -> std::string {
    try {
      return make().impl_info_str();
    } catch (const dnnl::error &e) {
      return std::string("unavailable: ") + e.what();
    }
  };
  const memory::dims src{200, 32, 14, 14}, wei{32, 32, 3, 3}, dst{200, 32, 14, 14}, st{1, 1}, dil{0, 0}, pad{1, 1};
  const memory::desc s16(src, dt::bf16, tag::nhwc), d32(dst, dt::f32, tag::nhwc), d16(dst, dt::bf16, tag::nhwc),
      s32(src, dt::f32, tag::nhwc), w16(wei, dt::bf16, tag::any), w32(wei, dt::f32, tag::any);
  using cf = dnnl::convolution_forward;
  auto fwd = [&] {
    return cf::primitive_desc(cf::desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, s16,
                                       w16, d32, st, dil, pad, pad),
                              Engine());
  };
  o.Set("convForward", impl(fwd));
  o.Set("convBackwardData", impl([&] {
          using cb = dnnl::convolution_backward_data;
          return cb::primitive_desc(cb::desc(dnnl::algorithm::convolution_direct, s32, w16, d16, st, dil, pad, pad),
                                    Engine(), fwd());
        }));
  o.Set("convBackwardWeights", impl([&] {
          using cb = dnnl::convolution_backward_weights;
          return cb::primitive_desc(cb::desc(dnnl::algorithm::convolution_direct, s16, w32, d16, st, dil, pad, pad),
                                    Engine(), fwd());
        }));
  o.Set("matmul", impl([&] {
          const memory::desc a({200, 784}, dt::bf16, tag::ab), b({784, 784}, dt::bf16, tag::ab),
              c({200, 784}, dt::f32, tag::ab);
          return dnnl::matmul::primitive_desc(dnnl::matmul::desc(a, b, c), Engine());
        }));
  return o;
}

}  // namespace

void InitPrecision(Napi::Env env, Napi::Object exports) {
  exports.Set("setPrecision", Napi::Function::New(env, SetPrecision));
  exports.Set("getPrecision", Napi::Function::New(env, GetPrecision));
  exports.Set("bf16Probe", Napi::Function::New(env, Bf16Probe));
}

}  // namespace ob
