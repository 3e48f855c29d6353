/* softmax.cu — row-wise softmax, cross-entropy and mean squared error
 *
 * A row has as many values as classes (ten here), so one thread owns a row
 * and walks it in the CPU's order, in double where the CPU uses double. The
 * losses end in one double, summed in a fixed order and left in device
 * memory for the backend to download.
 */
#include "common.cuh"

/* ---------------------------------------------------------------------------
 * Softmax over the rows of (N, C)
 */
__host__ __device__ static inline void
softmax_forward_one (float *out, const float *inp, int C, size_t n)
{
  const float *x = inp + n * C;
  float *y = out + n * C;
  float m = x[0];

  for (int c = 1; c < C; c++)
    m = cs_fmax_glib (m, x[c]);
  double sum = 0.0;
  for (int c = 0; c < C; c++)
    sum += exp ((double) x[c] - m);
  for (int c = 0; c < C; c++)
    y[c] = (float) (exp ((double) x[c] - m) / sum);
}

/* dx_i = y_i (dy_i − Σ_j dy_j y_j) */
__host__ __device__ static inline void
softmax_backward_one (float *dinp, const float *dout, const float *out, int C, size_t n)
{
  const float *y = out + n * C, *dy = dout + n * C;
  double dot = 0.0;

  for (int c = 0; c < C; c++)
    dot += (double) dy[c] * y[c];
  for (int c = 0; c < C; c++)
    dinp[n * C + c] = (float) (y[c] * (dy[c] - dot));
}

__global__ static void
softmax_forward_kernel (float *out, const float *inp, int N, int C)
{
  CS_CUDA_FOR (n, N)
    softmax_forward_one (out, inp, C, n);
}

__global__ static void
softmax_backward_kernel (float *dinp, const float *dout, const float *out, int N, int C)
{
  CS_CUDA_FOR (n, N)
    softmax_backward_one (dinp, dout, out, C, n);
}

extern "C" cudaError_t
cs_cuda_softmax_forward (cudaStream_t s, float *out, const float *inp, int N, int C)
{
  CS_CUDA_LAUNCH (softmax_forward_kernel, s, (size_t) N, out, inp, N, C);
}

extern "C" cudaError_t
cs_cuda_softmax_forward_emulate (cudaStream_t s, float *out, const float *inp, int N, int C)
{
  for (size_t n = 0; n < (size_t) N; n++)
    softmax_forward_one (out, inp, C, n);
  return cudaSuccess;
}

extern "C" cudaError_t
cs_cuda_softmax_backward (cudaStream_t s, float *dinp, const float *dout, const float *out,
                          int N, int C)
{
  CS_CUDA_LAUNCH (softmax_backward_kernel, s, (size_t) N, dinp, dout, out, N, C);
}

extern "C" cudaError_t
cs_cuda_softmax_backward_emulate (cudaStream_t s, float *dinp, const float *dout,
                                  const float *out, int N, int C)
{
  for (size_t n = 0; n < (size_t) N; n++)
    softmax_backward_one (dinp, dout, out, C, n);
  return cudaSuccess;
}

/* ---------------------------------------------------------------------------
 * Cross-entropy of logits (N, C) against labels (N): rows[n] = log Σ_c e^x_c
 * − x_label, computed around the row's max; probs and dlogits = (probs −
 * onehot) / N. Then one thread adds the rows up in order, as the CPU does.
 * A label out of range (the host checks them first) gives NaN, not a read
 * out of bounds.
 */
__host__ __device__ static inline void
cross_entropy_one (float *dlogits, float *probs, double *rows, const float *logits,
                   const int32_t *labels, int N, int C, size_t n)
{
  const float *x = logits + n * C;
  int32_t label = labels[n];
  float m = x[0];

  for (int c = 1; c < C; c++)
    m = cs_fmax_glib (m, x[c]);
  double sum = 0.0;
  for (int c = 0; c < C; c++)
    sum += exp ((double) x[c] - m);
  double lse = m + log (sum);
  int valid = label >= 0 && label < C;
  rows[n] = valid ? lse - x[label] : NAN;
  for (int c = 0; c < C; c++)
    {
      double p = exp ((double) x[c] - lse);
      probs[n * C + c] = (float) p;
      dlogits[n * C + c] = valid ? (float) ((p - (c == label)) / N) : NAN;
    }
}

__host__ __device__ static inline void
sum_rows (double *total, const double *rows, size_t N)
{
  double t = 0.0;
  for (size_t n = 0; n < N; n++)
    t += rows[n];
  *total = t / N;
}

__global__ static void
cross_entropy_kernel (float *dlogits, float *probs, double *rows, const float *logits,
                      const int32_t *labels, int N, int C)
{
  CS_CUDA_FOR (n, N)
    cross_entropy_one (dlogits, probs, rows, logits, labels, N, C, n);
}

__global__ static void
sum_rows_kernel (double *total, const double *rows, size_t N)
{
  if (blockIdx.x == 0 && threadIdx.x == 0)
    sum_rows (total, rows, N);
}

extern "C" cudaError_t
cs_cuda_cross_entropy (cudaStream_t s, float *dlogits, float *probs, double *total,
                       double *rows, const float *logits, const int32_t *labels, int N, int C)
{
  if (N == 0)
    return cudaSuccess;
  cross_entropy_kernel<<<cs_cuda_blocks (N), CS_CUDA_THREADS, 0, s>>>
    (dlogits, probs, rows, logits, labels, N, C);
  cudaError_t e = cudaGetLastError ();
  if (e != cudaSuccess)
    return e;
  sum_rows_kernel<<<1, 1, 0, s>>> (total, rows, (size_t) N);
  return cudaGetLastError ();
}

extern "C" cudaError_t
cs_cuda_cross_entropy_emulate (cudaStream_t s, float *dlogits, float *probs, double *total,
                               double *rows, const float *logits, const int32_t *labels, int N,
                               int C)
{
  for (size_t n = 0; n < (size_t) N; n++)
    cross_entropy_one (dlogits, probs, rows, logits, labels, N, C, n);
  sum_rows (total, rows, (size_t) N);
  return cudaSuccess;
}

/* ---------------------------------------------------------------------------
 * Mean squared error over n values: dpred = 2 (pred − target) / n, and the
 * loss Σ (pred − target)² / n. A grid of CS_CUDA_BLOCK blocks: each thread
 * sums its grid-stride share, each block its threads (partials), and one
 * thread the blocks, in order.
 */
#define MSE_THREADS ((size_t) CS_CUDA_BLOCK * CS_CUDA_BLOCK)

__host__ __device__ static inline double
mse_partial (float *dpred, const float *pred, const float *target, size_t n, size_t first)
{
  double acc = 0.0;

  for (size_t i = first; i < n; i += MSE_THREADS)
    {
      double d = (double) pred[i] - target[i];
      acc += d * d;
      dpred[i] = (float) (2.0 * d / n);
    }
  return acc;
}

__global__ static void
mse_kernel (float *dpred, double *partials, const float *pred, const float *target, size_t n)
{
  __shared__ double s[CS_CUDA_BLOCK];
  size_t first = (size_t) blockIdx.x * CS_CUDA_BLOCK + threadIdx.x;
  double total = cs_block_sum (mse_partial (dpred, pred, target, n, first), s);

  if (threadIdx.x == 0)
    partials[blockIdx.x] = total;
}

__global__ static void
mse_sum_kernel (double *total, const double *partials, size_t n)
{
  if (blockIdx.x == 0 && threadIdx.x == 0)
    {
      double t = 0.0;
      for (int b = 0; b < CS_CUDA_BLOCK; b++)
        t += partials[b];
      *total = t / n;
    }
}

extern "C" cudaError_t
cs_cuda_mse (cudaStream_t s, float *dpred, double *total, double *partials,
             const float *pred, const float *target, size_t n)
{
  if (n == 0)
    return cudaSuccess;
  mse_kernel<<<CS_CUDA_BLOCK, CS_CUDA_BLOCK, 0, s>>> (dpred, partials, pred, target, n);
  cudaError_t e = cudaGetLastError ();
  if (e != cudaSuccess)
    return e;
  mse_sum_kernel<<<1, 1, 0, s>>> (total, partials, n);
  return cudaGetLastError ();
}

extern "C" cudaError_t
cs_cuda_mse_emulate (cudaStream_t s, float *dpred, double *total, double *partials,
                     const float *pred, const float *target, size_t n)
{
  double part[CS_CUDA_BLOCK];

  for (int b = 0; b < CS_CUDA_BLOCK; b++)
    {
      for (int t = 0; t < CS_CUDA_BLOCK; t++)
        part[t] = mse_partial (dpred, pred, target, n, (size_t) b * CS_CUDA_BLOCK + t);
      partials[b] = cs_block_sum_emulate (part);
    }
  double t = 0.0;
  for (int b = 0; b < CS_CUDA_BLOCK; b++)
    t += partials[b];
  *total = t / n;
  return cudaSuccess;
}
