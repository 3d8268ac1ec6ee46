// RUN: mlc opt %s --split-input-file -p mlc-plan-memory | FileCheck %s

// A chain a -> b -> c -> out: a and c are never live at once, so they share offset 0; b (live
// with both) sits after them. The arena is the last argument; the plan is recorded on the module.
// CHECK: module attributes {mlc.arena_bytes = 128 : i64, mlc.buffer_bytes = 192 : i64}
// CHECK-LABEL: func.func @main(
// CHECK-SAME: %[[X:.*]]: memref<16xf32> {mlc.name = "x"}, %[[Y:.*]]: memref<16xf32> {mlc.name = "y"}, %[[ARENA:.*]]: memref<128xi8> {mlc.name = "arena"})
// CHECK: %[[A:.*]] = memref.view %[[ARENA]][%c0{{.*}}][] : memref<128xi8> to memref<16xf32>
// CHECK: %[[B:.*]] = memref.view %[[ARENA]][%c64{{.*}}][] : memref<128xi8> to memref<16xf32>
// CHECK: %[[C:.*]] = memref.view %[[ARENA]][%c0{{.*}}][] : memref<128xi8> to memref<16xf32>
// CHECK-NOT: memref.alloc
// CHECK-NOT: memref.dealloc
func.func @main(%x: memref<16xf32> {mlc.name = "x"}, %y: memref<16xf32> {mlc.name = "y"}) {
  %a = memref.alloc() {alignment = 64 : i64} : memref<16xf32>
  memref.copy %x, %a : memref<16xf32> to memref<16xf32>
  %b = memref.alloc() {alignment = 64 : i64} : memref<16xf32>
  memref.copy %a, %b : memref<16xf32> to memref<16xf32>
  %c = memref.alloc() {alignment = 64 : i64} : memref<16xf32>
  memref.copy %b, %c : memref<16xf32> to memref<16xf32>
  memref.copy %c, %y : memref<16xf32> to memref<16xf32>
  memref.dealloc %a : memref<16xf32>
  memref.dealloc %b : memref<16xf32>
  memref.dealloc %c : memref<16xf32>
  return
}

// -----

// A use inside a loop, through a view, keeps the buffer live until the loop ends.
// CHECK: module attributes {mlc.arena_bytes = 128 : i64, mlc.buffer_bytes = 128 : i64}
// CHECK-LABEL: func.func @main(
// CHECK: memref.view %{{.*}}[%c0{{.*}}][] : memref<128xi8> to memref<16xf32>
// CHECK: memref.view %{{.*}}[%c64{{.*}}][] : memref<128xi8> to memref<16xf32>
func.func @main(%x: memref<16xf32>, %y: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %a = memref.alloc() : memref<16xf32>
  memref.copy %x, %a : memref<16xf32> to memref<16xf32>
  %b = memref.alloc() : memref<16xf32>
  memref.copy %x, %b : memref<16xf32> to memref<16xf32>
  scf.for %i = %c0 to %c4 step %c1 {
    %sub = memref.subview %a[%i] [4] [1] : memref<16xf32> to memref<4xf32, strided<[1], offset: ?>>
    %sub_y = memref.subview %y[%i] [4] [1] : memref<16xf32> to memref<4xf32, strided<[1], offset: ?>>
    memref.copy %sub, %sub_y : memref<4xf32, strided<[1], offset: ?>> to memref<4xf32, strided<[1], offset: ?>>
  }
  memref.copy %b, %y : memref<16xf32> to memref<16xf32>
  memref.dealloc %a : memref<16xf32>
  memref.dealloc %b : memref<16xf32>
  return
}

// -----

// Dynamic sizes and buffers without a dealloc in the block are left alone.
// CHECK: module attributes {mlc.arena_bytes = 0 : i64, mlc.buffer_bytes = 0 : i64}
// CHECK-LABEL: func.func @main(
// CHECK-SAME: memref<0xi8>
// CHECK: memref.alloc(%{{.*}}) : memref<?xf32>
// CHECK: memref.alloc() : memref<16xf32>
// CHECK: memref.dealloc
func.func @main(%x: memref<16xf32>, %n: index) {
  %d = memref.alloc(%n) : memref<?xf32>
  %kept = memref.alloc() : memref<16xf32>
  memref.copy %x, %kept : memref<16xf32> to memref<16xf32>
  memref.dealloc %d : memref<?xf32>
  return
}

// -----

// A buffer sized at run time stays on the heap (alloc and dealloc kept); the static one beside
// it is planned.
// CHECK: module attributes {mlc.arena_bytes = 64 : i64, mlc.buffer_bytes = 64 : i64}
// CHECK-LABEL: func.func @main(
// CHECK: %[[DYN:.*]] = memref.alloc(%{{.*}}) : memref<?xf32>
// CHECK: memref.view %{{.*}}[%c0{{.*}}][] : memref<64xi8> to memref<16xf32>
// CHECK: memref.dealloc %[[DYN]] : memref<?xf32>
func.func @main(%x: memref<?xf32> {mlc.name = "x"}, %y: memref<?xf32> {mlc.name = "y"},
                %s: memref<16xf32> {mlc.name = "s"}, %t: memref<16xf32> {mlc.name = "t"}) {
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?xf32>
  %a = memref.alloc(%n) : memref<?xf32>
  memref.copy %x, %a : memref<?xf32> to memref<?xf32>
  %b = memref.alloc() : memref<16xf32>
  memref.copy %s, %b : memref<16xf32> to memref<16xf32>
  memref.copy %a, %y : memref<?xf32> to memref<?xf32>
  memref.copy %b, %t : memref<16xf32> to memref<16xf32>
  memref.dealloc %a : memref<?xf32>
  memref.dealloc %b : memref<16xf32>
  return
}
