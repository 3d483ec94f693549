// RUN: tele-opt %s --tele-train-step-pipeline="stage=s0" | FileCheck %s --check-prefix=S0
// RUN: tele-opt %s --tele-train-step-pipeline="stage=s1 phase=transition" | FileCheck %s --check-prefix=S1T
// RUN: tele-opt %s --tele-train-step-pipeline="stage=s1 phase=steady dtype=f64 batch=5" | FileCheck %s --check-prefix=S1
// RUN: tele-opt %s --tele-train-step-pipeline="stage=s0 target=cuda" | FileCheck %s --check-prefix=CUDA
// RUN: not tele-opt %s --tele-train-step-pipeline="stage=s0 target=tpu" 2>&1 | FileCheck %s --check-prefix=TARGET

// tele-train-step-pipeline is what tele train, tele compile and tele bench
// run for one stage: tele-stage-loss, tele-autodiff, tele-optimizer, cse;
// with target=cuda then tele-cuda-program-pipeline on the step. The matrix
// learning rate of a stage after width growth is scaled by d0/d (muP):
// @s1 trains at hidden 12 after @s0 at 8, so its peak 3.0e-3 becomes 2.0e-3.

// S0-LABEL: func.func @tiny_loss(
// S0-LABEL: func.func @tiny_loss_grad(
// S0-LABEL: func.func @tiny_step(
// S0: tele.lr_schedule %{{.+}} {decay = #tele.decay<cosine>, min = 0.000000e+00 : f64, peak = 3.000000e-03 : f64
// S0-LABEL: func.func @eval(

// S1T-LABEL: func.func @grow_tiny_to_wide()
// S1T-LABEL: func.func @wide_loss(
// S1T: tele.mask_value "mask.hidden"
// S1T-LABEL: func.func @wide_step(
// S1T: tele.mask_value "mask.hidden"
// S1T: tele.lr_schedule %{{.+}} {decay = #tele.decay<cosine>, min = 0.000000e+00 : f64, peak = 2.000000e-03 : f64
// S1T: tele.lr_schedule %{{.+}} {decay = #tele.decay<cosine>, min = 0.000000e+00 : f64, peak = 3.000000e-03 : f64
// S1T-LABEL: func.func @eval(

// S1-LABEL: func.func @wide_step(
// S1-SAME: tensor<5x4xi32>
// S1-NOT: tele.mask_value
// S1: tele.lr_schedule %{{.+}} peak = 2.000000e-03 : f64
// S1-LABEL: func.func @eval(
// S1-SAME: -> (tensor<f64>, tensor<5x4x16xf64>)

// The device program: the step alone, its ops annotated with their launches
// and the memory plan.
// CUDA-NOT: func.func @tiny_loss
// CUDA-NOT: func.func @eval
// CUDA-LABEL: func.func @tiny_step(
// CUDA-SAME: tele.arena_bytes
// CUDA: tele.launches
// CUDA: gpu.module @tele_kernels

// TARGET: Cannot find option named 'tpu'

tele.model @tiny <vocab = 16, hidden = 8, heads = 2, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.model @wide <vocab = 16, hidden = 12, heads = 3, head_dim = 4, ffn = 12, layers = 1, seq_len = 4>
tele.plan @p {
  tele.stage @s0 on @tiny <steps = 4, batch = 2, lr_matrix = 3.0e-3, lr_vector = 3.0e-3>
  tele.grow.width @tiny -> @wide {transition_steps = 2}
  tele.stage @s1 on @wide <steps = 4, batch = 3, lr_matrix = 3.0e-3, lr_vector = 3.0e-3>
}
