/* kernels.h — the CUDA kernels of core/gpu behind C launchers
 *
 * Compiled by nvcc (the .cu files) and by the C compiler (backend-cuda.c,
 * the tests), so plain C types only: no GLib here. Each kernel mirrors one
 * loop of core/backend-ref.c, with the same order of operations wherever a
 * thread owns one output, so that most results agree with the CPU bit for
 * bit (GEMM and the reductions over a batch differ in summation order).
 *
 * Launchers queue the work on stream s and return the launch's error
 * (cudaSuccess when there is nothing to do). Pointers are device memory.
 *
 * Each launcher has an _emulate twin that runs the very same per-thread
 * code on the host, thread by thread and block by block, so the index
 * arithmetic and the arithmetic of every kernel are tested on machines
 * without a GPU (tests/test-gpu.c); pointers are host memory there.
 */
#pragma once

#include <cuda_runtime_api.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* CsSlidingWindow, field for field (backend-cuda.c asserts the layout). */
typedef struct
{
  int C, H, W;
  int kh, kw;
  int sh, sw;
  int ph, pw;
  int dh, dw;
  int OH, OW;
} CsCudaWindow;

/* Threads per block of the kernels that reduce inside a block. */
#define CS_CUDA_BLOCK 256

/* CsActKind and CsPoolKind, by number (asserted in backend-cuda.c). */
enum { CS_CUDA_RELU, CS_CUDA_LEAKY_RELU, CS_CUDA_SIGMOID, CS_CUDA_TANH };
enum { CS_CUDA_POOL_MAX, CS_CUDA_POOL_AVG };

/* The kernels, as X (name, (parameters)): each gives a launcher
 *   cudaError_t cs_cuda_<name> (cudaStream_t s, …)
 * and its host twin cs_cuda_<name>_emulate with the same parameters (the
 * stream ignored), which returns cudaSuccess. */
#define CS_CUDA_KERNELS(X)                                                       \
  /* conv.cu — the convolution's data movement (the GEMM is cuBLAS's) */        \
  X (im2col, (cudaStream_t s, float *cols, const float *img, int N, CsCudaWindow g)) \
  X (col2im, (cudaStream_t s, float *img, const float *cols, int N, CsCudaWindow g)) \
  X (bias_add, (cudaStream_t s, float *out, const float *bias, int N, int C, int HW)) \
  X (bias_grad, (cudaStream_t s, float *dbias, const float *dout, int N, int C, int HW)) \
  X (swap01, (cudaStream_t s, float *dst, const float *src, int A, int B, int P))  \
  /* pool.cu */                                                                 \
  X (pool_forward, (cudaStream_t s, float *out, int32_t *argmax, const float *inp, \
                    int planes, CsCudaWindow g, int kind))                      \
  X (pool_backward, (cudaStream_t s, float *dinp, const float *dout,             \
                     const int32_t *argmax, int planes, CsCudaWindow g, int kind)) \
  /* elementwise.cu; dropout: mask = scale where the hash of (seed, i)        \
   * draws u ≥ p, else 0 */                                                     \
  X (act_forward, (cudaStream_t s, float *out, const float *inp, size_t n, int kind, \
                   float slope))                                                \
  X (act_backward, (cudaStream_t s, float *dinp, const float *dout, const float *inp, \
                    const float *out, size_t n, int kind, float slope))         \
  X (dropout_forward, (cudaStream_t s, float *out, float *mask, const float *inp, \
                       size_t n, float p, float scale, uint64_t seed))          \
  X (mul, (cudaStream_t s, float *out, const float *a, const float *b, size_t n)) \
  X (add, (cudaStream_t s, float *out, const float *a, const float *b, size_t n)) \
  X (axpy, (cudaStream_t s, float *y, float a, const float *x, size_t n))       \
  X (fill, (cudaStream_t s, float *x, float value, size_t n))                   \
  /* softmax.cu — the losses leave their value in *total (one double of      \
   * device memory); rows (N doubles) and partials (CS_CUDA_BLOCK) are scratch */ \
  X (softmax_forward, (cudaStream_t s, float *out, const float *inp, int N, int C)) \
  X (softmax_backward, (cudaStream_t s, float *dinp, const float *dout,          \
                        const float *out, int N, int C))                        \
  X (cross_entropy, (cudaStream_t s, float *dlogits, float *probs, double *total, \
                     double *rows, const float *logits, const int32_t *labels,  \
                     int N, int C))                                             \
  X (mse, (cudaStream_t s, float *dpred, double *total, double *partials,       \
           const float *pred, const float *target, size_t n))                   \
  /* batchnorm.cu — one block per channel */                                   \
  X (batchnorm_forward, (cudaStream_t s, float *out, float *save_mean,          \
                         float *save_invstd, float *running_mean, float *running_var, \
                         const float *inp, const float *gamma, const float *beta, \
                         int N, int C, int HW, float eps, float momentum, int train)) \
  X (batchnorm_backward, (cudaStream_t s, float *dinp, float *dgamma, float *dbeta, \
                          const float *dout, const float *inp, const float *save_mean, \
                          const float *save_invstd, const float *gamma, int N, int C, \
                          int HW, int train))                                   \
  /* optim.cu — the step's scalars come from the host */                       \
  X (sgd_update, (cudaStream_t s, float *param, const float *grad, float *buf,  \
                  size_t n, float lr, float momentum, float dampening,          \
                  float weight_decay, int nesterov, int first_step))            \
  X (adam_update, (cudaStream_t s, float *param, const float *grad, float *m,   \
                   float *v, size_t n, float beta1, float beta2, float eps,     \
                   float weight_decay, float step_size, float bc2_sqrt))        \
  X (rmsprop_update, (cudaStream_t s, float *param, const float *grad,          \
                      float *square_avg, float *buf, size_t n, float lr,        \
                      float alpha, float eps, float weight_decay, float momentum))

#define CS_CUDA_DECLARE(name, params)                                            \
  cudaError_t cs_cuda_##name params;                                             \
  cudaError_t cs_cuda_##name##_emulate params;
CS_CUDA_KERNELS (CS_CUDA_DECLARE)
#undef CS_CUDA_DECLARE

/* The launchers of a set, by name: the device's or the host's. */
typedef struct
{
#define CS_CUDA_FIELD(name, params) cudaError_t (*name) params;
  CS_CUDA_KERNELS (CS_CUDA_FIELD)
#undef CS_CUDA_FIELD
} CsCudaKernels;

/* cs_dropout_hash, compiled for the device (and, here, for the host) */
uint32_t cs_cuda_dropout_hash_emulate (uint64_t seed, uint64_t i);

#ifdef __cplusplus
}
#endif
