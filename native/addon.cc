// Entry point of the optbench native addon: one CPU engine and stream for the process, OpenMP
// thread control, and the kernel families registered from their own files.
#include <omp.h>
#include <pthread.h>
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

static const sigset_t &AsyncSignals() {
  static const sigset_t set = [] {
    sigset_t s;
    sigfillset(&s);
    for (int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS}) sigdelset(&s, sig);
    return s;
  }();
  return set;
}

SignalsDeferred::SignalsDeferred() { pthread_sigmask(SIG_BLOCK, &AsyncSignals(), &saved_); }
SignalsDeferred::~SignalsDeferred() { pthread_sigmask(SIG_SETMASK, &saved_, nullptr); }

// Sets the OpenMP team size and starts the team's threads with asynchronous signals blocked (a thread
// inherits its creator's mask, and libgomp keeps its threads), so that a signal sent to the process is
// never handled on a thread that runs oneDNN kernels: see SignalsDeferred.
static void StartThreads(int n) {
  SignalsDeferred deferred;
  omp_set_num_threads(n);
#pragma omp parallel
  { (void)omp_get_thread_num(); }
}

static Napi::Value SetThreads(const Napi::CallbackInfo &info) {
  int64_t n = Int(info[0]);
  Require(n >= 1 && n <= 1024, info.Env(), "threads must be between 1 and 1024");
  StartThreads(static_cast<int>(n));
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

// The op tables of ops.h as {table: {name: code}}: lib/backend/native-ops.ts takes its codes from here.
static Napi::Object OpTables(Napi::Env env) {
  Napi::Object tables = Napi::Object::New(env);
#define OB_ENTRY(id, name) table.Set(name, static_cast<int>(id));
#define OB_TABLE(key, LIST)                      \
  {                                              \
    Napi::Object table = Napi::Object::New(env); \
    LIST(OB_ENTRY)                               \
    tables.Set(key, table);                      \
  }
  OB_OP_TABLES(OB_TABLE)
#undef OB_TABLE
#undef OB_ENTRY
  return tables;
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  StartThreads(omp_get_max_threads());
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads));
  exports.Set("version", Napi::Function::New(env, Version));
  exports.Set("ops", OpTables(env));
  InitConv(env, exports);
  InitMatmul(env, exports);
  InitPool(env, exports);
  InitElementwise(env, exports);
  InitBroadcast(env, exports);
  InitReduce(env, exports);
  InitNorm(env, exports);
  InitOptim(env, exports);
  InitRandom(env, exports);
  InitPrecision(env, exports);
  InitLoss(env, exports);
  return exports;
}

}  // namespace ob

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return ob::Init(env, exports); }

NODE_API_MODULE(optbench_native, InitAddon)
