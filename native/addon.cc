// Entry point of the optbench native addon: one CPU engine and stream for the process, OpenMP
// thread control, and the kernel families registered from their own files.
#include <omp.h>
#include "common.h"

namespace ob {

dnnl::engine &Engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream &Stream() {
  static dnnl::stream stream(Engine());
  return stream;
}

static Napi::Value SetThreads(const Napi::CallbackInfo &info) {
  int64_t n = Int(info[0]);
  Require(n >= 1 && n <= 1024, info.Env(), "threads must be between 1 and 1024");
  omp_set_num_threads(static_cast<int>(n));
  return info.Env().Undefined();
}

static Napi::Value GetThreads(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), omp_get_max_threads());
}

static Napi::Value Version(const Napi::CallbackInfo &info) {
  const dnnl_version_t *v = dnnl_version();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("major", v->major);
  o.Set("minor", v->minor);
  o.Set("patch", v->patch);
  o.Set("cpuRuntime", v->cpu_runtime == DNNL_RUNTIME_OMP ? "omp" : "other");
  return o;
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads));
  exports.Set("version", Napi::Function::New(env, Version));
  InitConv(env, exports);
  InitMatmul(env, exports);
  InitPool(env, exports);
  InitElementwise(env, exports);
  InitReduce(env, exports);
  InitNorm(env, exports);
  InitOptim(env, exports);
  InitRandom(env, exports);
  return exports;
}

}  // namespace ob

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return ob::Init(env, exports); }

NODE_API_MODULE(optbench_native, InitAddon)
