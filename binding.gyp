{
  "targets": [
    {
      "target_name": "optbench_native",
      "sources": [
        "native/addon.cc",
        "native/conv.cc",
        "native/conv-prims.cc",
        "native/conv-1c.cc",
        "native/matmul.cc",
        "native/pool.cc",
        "native/elementwise.cc",
        "native/broadcast.cc",
        "native/reduce.cc",
        "native/norm.cc",
        "native/optim.cc",
        "native/random.cc",
        "native/precision.cc",
        "native/loss.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-O3", "-march=native", "-fopenmp", "-fexceptions", "-ffp-contract=off", "-fno-math-errno"],
      "libraries": ["-ldnnl", "-lmvec", "-fopenmp"]
    }
  ]
}
