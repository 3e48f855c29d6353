/* common.cuh — what the kernels of core/gpu share
 *
 * The pattern of every file: the work of one thread is a __host__
 * __device__ function of its index; the kernel runs it over a grid-stride
 * loop; the launcher queues the kernel; the _emulate twin runs the same
 * function over every index on the host, for the tests.
 *
 * Compiled with -fmad=false: a * b + c stays two roundings, as on the CPU,
 * so that element-wise results match the C code bit for bit.
 */
#pragma once

#include "kernels.h"

#include <math.h>

#define CS_CUDA_THREADS 256
#define CS_CUDA_MAX_BLOCKS 65535u

/* for (i = this thread's first index; i < n; i += threads in the grid) */
#define CS_CUDA_FOR(i, n) \
  for (size_t i = blockIdx.x * (size_t) blockDim.x + threadIdx.x; i < (size_t) (n); \
       i += (size_t) gridDim.x * blockDim.x)

static inline unsigned
cs_cuda_blocks (size_t n)
{
  size_t b = (n + CS_CUDA_THREADS - 1) / CS_CUDA_THREADS;
  return (unsigned) (b < CS_CUDA_MAX_BLOCKS ? b : CS_CUDA_MAX_BLOCKS);
}

/* One thread per index of [0, n): kernel (args…, i) over a grid-stride loop. */
#define CS_CUDA_LAUNCH(kernel, s, n, ...)                                       \
  do {                                                                          \
    if ((n) == 0)                                                               \
      return cudaSuccess;                                                       \
    kernel<<<cs_cuda_blocks (n), CS_CUDA_THREADS, 0, (s)>>> (__VA_ARGS__);      \
    return cudaGetLastError ();                                                 \
  } while (0)

__host__ __device__ static inline int
cs_imin (int a, int b)
{
  return a < b ? a : b;
}

__host__ __device__ static inline int
cs_imax (int a, int b)
{
  return a > b ? a : b;
}

/* MAX (a, b) of GLib, NaN and all: b unless a > b. */
__host__ __device__ static inline float
cs_fmax_glib (float a, float b)
{
  return a > b ? a : b;
}

/* The sum of v over the CS_CUDA_BLOCK threads of a block, in a fixed tree
 * order (so it is the same run after run); s is __shared__ scratch of
 * CS_CUDA_BLOCK doubles. Every thread of the block must call it. */
__device__ static inline double
cs_block_sum (double v, double *s)
{
  int t = threadIdx.x;

  s[t] = v;
  __syncthreads ();
  for (int stride = CS_CUDA_BLOCK / 2; stride > 0; stride >>= 1)
    {
      if (t < stride)
        s[t] += s[t + stride];
      __syncthreads ();
    }
  double total = s[0];
  __syncthreads ();  /* s may be written again right after */
  return total;
}

/* The same tree on the host, over the values of s[0 … CS_CUDA_BLOCK). */
static inline double
cs_block_sum_emulate (double *s)
{
  for (int stride = CS_CUDA_BLOCK / 2; stride > 0; stride >>= 1)
    for (int t = 0; t < stride; t++)
      s[t] += s[t + stride];
  return s[0];
}
