// RUN: mlc opt %s -p mlc-externalize-weights | FileCheck %s

// Globals over 256 bytes lose their initializer (kept in the module's mlc.weights) and become
// public so the linker's definition binds; small and uninitialized globals stay as they are.
// CHECK: module attributes {mlc.weights = {big = dense<1.000000e+00> : tensor<128xf32>}}
// CHECK: memref.global constant @big : memref<128xf32>{{$}}
// CHECK: memref.global "private" constant @small : memref<4xf32> = dense<
// CHECK: memref.global "private" @scratch : memref<128xf32> = uninitialized
memref.global "private" constant @big : memref<128xf32> = dense<1.0>
memref.global "private" constant @small : memref<4xf32> = dense<[1.0, 2.0, 3.0, 4.0]>
memref.global "private" @scratch : memref<128xf32> = uninitialized

func.func @use() -> memref<128xf32> {
  %0 = memref.get_global @big : memref<128xf32>
  return %0 : memref<128xf32>
}
