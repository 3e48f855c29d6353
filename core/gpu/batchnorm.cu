/* batchnorm.cu — BatchNorm2d forward and backward over inp (N, C, HW)
 *
 * One block per channel. The statistics are sums over the channel's N·HW
 * values in double, each thread taking every CS_CUDA_BLOCK-th value and the
 * block adding the partial sums in a fixed tree; everything else is
 * backend-ref.c's expressions, with the same mix of float and double.
 */
#include "common.cuh"

/* The e-th of the M = N·HW values of channel c */
__host__ __device__ static inline size_t
bn_index (int C, int HW, int c, size_t e)
{
  return ((e / HW) * C + c) * HW + e % HW;
}

/* Thread t's share of Σ x and of Σ (x − mean)² */
__host__ __device__ static inline double
bn_sum_partial (const float *inp, int C, int HW, size_t M, int c, int t)
{
  double acc = 0.0;
  for (size_t e = t; e < M; e += CS_CUDA_BLOCK)
    acc += inp[bn_index (C, HW, c, e)];
  return acc;
}

__host__ __device__ static inline double
bn_var_partial (const float *inp, int C, int HW, size_t M, int c, double mean, int t)
{
  double acc = 0.0;
  for (size_t e = t; e < M; e += CS_CUDA_BLOCK)
    {
      double d = inp[bn_index (C, HW, c, e)] - mean;
      acc += d * d;
    }
  return acc;
}

/* Training: the batch's mean and biased variance, and the running
 * statistics' update with the unbiased one. Done by one thread. */
__host__ __device__ static inline void
bn_statistics (float *running_mean, float *running_var, double s, double s2, size_t M,
               float momentum, int c, double *mean, double *var)
{
  *mean = s / M;
  *var = s2 / M;  /* biased, for normalising */
  double unbiased = M > 1 ? s2 / (M - 1) : *var;
  running_mean[c] = (float) ((1.0 - momentum) * running_mean[c] + momentum * *mean);
  running_var[c] = (float) ((1.0 - momentum) * running_var[c] + momentum * unbiased);
}

__host__ __device__ static inline void
bn_normalise (float *out, const float *inp, const float *gamma, const float *beta, int C,
              int HW, size_t M, int c, double mean, double invstd, int t)
{
  for (size_t e = t; e < M; e += CS_CUDA_BLOCK)
    {
      size_t i = bn_index (C, HW, c, e);
      out[i] = (float) ((inp[i] - mean) * invstd * gamma[c] + beta[c]);
    }
}

__global__ static void
batchnorm_forward_kernel (float *out, float *save_mean, float *save_invstd,
                          float *running_mean, float *running_var, const float *inp,
                          const float *gamma, const float *beta, int N, int C, int HW,
                          float eps, float momentum, int train)
{
  __shared__ double s[CS_CUDA_BLOCK];
  __shared__ double stats[2];  /* mean, var: from thread 0 to all */
  size_t M = (size_t) N * HW;
  int t = threadIdx.x;

  for (int c = blockIdx.x; c < C; c += gridDim.x)
    {
      if (train)
        {
          double sum = cs_block_sum (bn_sum_partial (inp, C, HW, M, c, t), s);
          double mean = sum / M;
          double s2 = cs_block_sum (bn_var_partial (inp, C, HW, M, c, mean, t), s);
          if (t == 0)
            bn_statistics (running_mean, running_var, sum, s2, M, momentum, c,
                           &stats[0], &stats[1]);
        }
      else if (t == 0)
        {
          stats[0] = running_mean[c];
          stats[1] = running_var[c];
        }
      __syncthreads ();
      double mean = stats[0], invstd = 1.0 / sqrt (stats[1] + eps);
      if (t == 0)
        {
          save_mean[c] = (float) mean;
          save_invstd[c] = (float) invstd;
        }
      bn_normalise (out, inp, gamma, beta, C, HW, M, c, mean, invstd, t);
      __syncthreads ();  /* stats is written again for the next channel */
    }
}

extern "C" cudaError_t
cs_cuda_batchnorm_forward (cudaStream_t s, float *out, float *save_mean, float *save_invstd,
                           float *running_mean, float *running_var, const float *inp,
                           const float *gamma, const float *beta, int N, int C, int HW,
                           float eps, float momentum, int train)
{
  if (C == 0)
    return cudaSuccess;
  batchnorm_forward_kernel<<<(unsigned) cs_imin (C, (int) CS_CUDA_MAX_BLOCKS), CS_CUDA_BLOCK,
                             0, s>>> (out, save_mean, save_invstd, running_mean, running_var,
                                      inp, gamma, beta, N, C, HW, eps, momentum, train);
  return cudaGetLastError ();
}

extern "C" cudaError_t
cs_cuda_batchnorm_forward_emulate (cudaStream_t s, float *out, float *save_mean,
                                   float *save_invstd, float *running_mean, float *running_var,
                                   const float *inp, const float *gamma, const float *beta,
                                   int N, int C, int HW, float eps, float momentum, int train)
{
  double part[CS_CUDA_BLOCK];
  size_t M = (size_t) N * HW;

  for (int c = 0; c < C; c++)
    {
      double mean, var;
      if (train)
        {
          for (int t = 0; t < CS_CUDA_BLOCK; t++)
            part[t] = bn_sum_partial (inp, C, HW, M, c, t);
          double sum = cs_block_sum_emulate (part);
          for (int t = 0; t < CS_CUDA_BLOCK; t++)
            part[t] = bn_var_partial (inp, C, HW, M, c, sum / M, t);
          double s2 = cs_block_sum_emulate (part);
          bn_statistics (running_mean, running_var, sum, s2, M, momentum, c, &mean, &var);
        }
      else
        {
          mean = running_mean[c];
          var = running_var[c];
        }
      double invstd = 1.0 / sqrt (var + eps);
      save_mean[c] = (float) mean;
      save_invstd[c] = (float) invstd;
      for (int t = 0; t < CS_CUDA_BLOCK; t++)
        bn_normalise (out, inp, gamma, beta, C, HW, M, c, mean, invstd, t);
    }
  return cudaSuccess;
}

/* ---------------------------------------------------------------------------
 * Backward. x̂ = (x − μ)·σ⁻¹, dx̂ = dy·γ;
 *   training (batch statistics): dx = σ⁻¹/M · (M·dx̂ − Σdx̂ − x̂·Σ(dx̂·x̂))
 *   evaluation (running ones, constants): dx = σ⁻¹·dx̂
 * dgamma += Σ dy·x̂, dbeta += Σ dy; dinp (may be NULL) assigned.
 */
__host__ __device__ static inline double
bn_xhat (const float *inp, const float *save_mean, const float *save_invstd, int c, size_t i)
{
  /* the difference in float, as the C expression computes it */
  return (inp[i] - save_mean[c]) * (double) save_invstd[c];
}

__host__ __device__ static inline void
bn_grad_partial (const float *dout, const float *inp, const float *save_mean,
                 const float *save_invstd, int C, int HW, size_t M, int c, int t,
                 double *sum_dy, double *sum_dy_xhat)
{
  double a = 0.0, b = 0.0;
  for (size_t e = t; e < M; e += CS_CUDA_BLOCK)
    {
      size_t i = bn_index (C, HW, c, e);
      a += dout[i];
      b += dout[i] * bn_xhat (inp, save_mean, save_invstd, c, i);
    }
  *sum_dy = a;
  *sum_dy_xhat = b;
}

__host__ __device__ static inline void
bn_input_grad (float *dinp, const float *dout, const float *inp, const float *save_mean,
               const float *save_invstd, const float *gamma, int C, int HW, size_t M, int c,
               int train, double sum_dy, double sum_dy_xhat, int t)
{
  for (size_t e = t; e < M; e += CS_CUDA_BLOCK)
    {
      size_t i = bn_index (C, HW, c, e);
      double xhat = bn_xhat (inp, save_mean, save_invstd, c, i);
      double dxhat_m = train ? M * (double) dout[i] - sum_dy - xhat * sum_dy_xhat
                             : M * (double) dout[i];
      dinp[i] = (float) (gamma[c] * save_invstd[c] * dxhat_m / M);
    }
}

__global__ static void
batchnorm_backward_kernel (float *dinp, float *dgamma, float *dbeta, const float *dout,
                           const float *inp, const float *save_mean, const float *save_invstd,
                           const float *gamma, int N, int C, int HW, int train)
{
  __shared__ double s[CS_CUDA_BLOCK];
  size_t M = (size_t) N * HW;
  int t = threadIdx.x;

  for (int c = blockIdx.x; c < C; c += gridDim.x)
    {
      double a, b;
      bn_grad_partial (dout, inp, save_mean, save_invstd, C, HW, M, c, t, &a, &b);
      double sum_dy = cs_block_sum (a, s);
      double sum_dy_xhat = cs_block_sum (b, s);
      if (t == 0)
        {
          dgamma[c] += (float) sum_dy_xhat;
          dbeta[c] += (float) sum_dy;
        }
      if (dinp != NULL)
        bn_input_grad (dinp, dout, inp, save_mean, save_invstd, gamma, C, HW, M, c, train,
                       sum_dy, sum_dy_xhat, t);
    }
}

extern "C" cudaError_t
cs_cuda_batchnorm_backward (cudaStream_t s, float *dinp, float *dgamma, float *dbeta,
                            const float *dout, const float *inp, const float *save_mean,
                            const float *save_invstd, const float *gamma, int N, int C, int HW,
                            int train)
{
  if (C == 0)
    return cudaSuccess;
  batchnorm_backward_kernel<<<(unsigned) cs_imin (C, (int) CS_CUDA_MAX_BLOCKS), CS_CUDA_BLOCK,
                              0, s>>> (dinp, dgamma, dbeta, dout, inp, save_mean, save_invstd,
                                       gamma, N, C, HW, train);
  return cudaGetLastError ();
}

extern "C" cudaError_t
cs_cuda_batchnorm_backward_emulate (cudaStream_t s, float *dinp, float *dgamma, float *dbeta,
                                    const float *dout, const float *inp, const float *save_mean,
                                    const float *save_invstd, const float *gamma, int N, int C,
                                    int HW, int train)
{
  double sa[CS_CUDA_BLOCK], sb[CS_CUDA_BLOCK];
  size_t M = (size_t) N * HW;

  for (int c = 0; c < C; c++)
    {
      for (int t = 0; t < CS_CUDA_BLOCK; t++)
        bn_grad_partial (dout, inp, save_mean, save_invstd, C, HW, M, c, t, &sa[t], &sb[t]);
      double sum_dy = cs_block_sum_emulate (sa);
      double sum_dy_xhat = cs_block_sum_emulate (sb);
      dgamma[c] += (float) sum_dy_xhat;
      dbeta[c] += (float) sum_dy;
      if (dinp != NULL)
        for (int t = 0; t < CS_CUDA_BLOCK; t++)
          bn_input_grad (dinp, dout, inp, save_mean, save_invstd, gamma, C, HW, M, c, train,
                         sum_dy, sum_dy_xhat, t);
    }
  return cudaSuccess;
}
